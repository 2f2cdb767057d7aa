#ifndef TOKENBOX_TOKEN_TOKEN_H_
#define TOKENBOX_TOKEN_TOKEN_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ns/unique_fd.h"
#include "token/delegation_policy.h"

namespace tokenbox {

// Child side: BPF_TOKEN_CREATE from a delegated bpffs. `bpffs_fd` may be the raw fsmount fd
// (O_PATH-like, which the kernel refuses; its root is opened here) or a directory fd on the
// bpffs root. A failure of the kernel call is explained by TokenCreateError.
absl::StatusOr<UniqueFd> CreateToken(int bpffs_fd);

// Explains the errno `err` that BPF_TOKEN_CREATE returned for `bpffs_fd`, with its cause and a
// remedy: EBADF for a closed or O_PATH fd, EINVAL for an fd that is not the root of a bpffs,
// EPERM for a bpffs owned by another user namespace or for missing CAP_BPF, EOPNOTSUPP in the
// initial user namespace, ENOENT when nothing is delegated. It looks at `bpffs_fd` and at this
// process's capabilities to tell causes apart, so call it right after the failed call, with
// the fd still open (unless closing it was the failure). For callers of the raw call, such as
// libbpf's bpf_token_create; CreateToken reports its own failures through it.
absl::Status TokenCreateError(int err, int bpffs_fd);

// What a token allows, as a policy. Uses BPF_OBJ_GET_INFO_BY_FD (Linux >= 6.17) and falls back
// to ReadTokenFdinfo on older kernels. An all-ones mask reads back as `any`.
absl::StatusOr<DelegationPolicy> ReadTokenInfo(int token_fd);

// What a token allows, from /proc/self/fdinfo/`token_fd`: the fallback of ReadTokenInfo, public
// so that it can be checked against BPF_OBJ_GET_INFO_BY_FD on kernels that have both.
absl::StatusOr<DelegationPolicy> ReadTokenFdinfo(int token_fd);

// Parses the allowed_* lines of a token's /proc/PID/fdinfo text ("allowed_cmds:\t0x21" or
// "allowed_cmds:\tany"). Pure, for ReadTokenFdinfo and for tests.
absl::StatusOr<DelegationPolicy> ParseTokenFdinfo(absl::string_view fdinfo);

}  // namespace tokenbox

#endif  // TOKENBOX_TOKEN_TOKEN_H_
