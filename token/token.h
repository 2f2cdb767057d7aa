#ifndef TOKENBOX_TOKEN_TOKEN_H_
#define TOKENBOX_TOKEN_TOKEN_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ns/unique_fd.h"
#include "token/delegation_policy.h"

namespace tokenbox {

// Child side: BPF_TOKEN_CREATE from a delegated bpffs. `bpffs_fd` may be the raw fsmount fd
// (O_PATH-like, which the kernel refuses; its root is opened here) or a directory fd on the
// bpffs root. Each errno the kernel can return is explained with its cause and a remedy, for
// example EPERM for a bpffs owned by another user namespace or for missing CAP_BPF.
absl::StatusOr<UniqueFd> CreateToken(int bpffs_fd);

// What a token allows, as a policy. Uses BPF_OBJ_GET_INFO_BY_FD (Linux >= 6.17) and falls back
// to /proc/self/fdinfo on older kernels. An all-ones mask reads back as `any`.
absl::StatusOr<DelegationPolicy> ReadTokenInfo(int token_fd);

// Parses the allowed_* lines of a token's /proc/PID/fdinfo text ("allowed_cmds:\t0x21" or
// "allowed_cmds:\tany"). Pure, for the fallback above and for tests.
absl::StatusOr<DelegationPolicy> ParseTokenFdinfo(absl::string_view fdinfo);

}  // namespace tokenbox

#endif  // TOKENBOX_TOKEN_TOKEN_H_
