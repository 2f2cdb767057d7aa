#ifndef TOKENBOX_TOKEN_BPFFS_CONFIG_H_
#define TOKENBOX_TOKEN_BPFFS_CONFIG_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ns/unique_fd.h"
#include "token/delegation_policy.h"

namespace tokenbox {

// Privileged parent side. `fs_fd` is a bpffs context that the sandboxed child opened with
// fsopen("bpf") inside its own user and mount namespace, so the superblock belongs to the child's
// user namespace. Sets the four delegate_* options, creates the superblock and returns the
// detached mount (fsmount). Names go in one fsconfig call per option; a bit this build cannot
// name goes as a number in a call of its own, because a number inside a string overwrites what
// came before it in the kernel's parser. Needs CAP_SYS_ADMIN in the initial user namespace.
absl::StatusOr<UniqueFd> ConfigureDelegatedBpffs(int fs_fd, const DelegationPolicy& policy);

// The two halves of the exchange over a SOCK_SEQPACKET socket (ns/fd_passing.h):
//   child:  fsopen("bpf") ---- context fd ---->  parent: ConfigureDelegatedBpffs
//           mount fd <-------- mount fd -------          (or its error, as a status)
// The child must already be in its new user and mount namespace.
absl::StatusOr<UniqueFd> RequestDelegatedBpffs(int sock, absl::Duration timeout);
absl::Status ServeDelegatedBpffs(int sock, const DelegationPolicy& policy,
                                 absl::Duration timeout);

// The parent's half in two pieces, for a caller that receives the child's messages itself (the
// launcher, which must tell a set-up failure report from the request): the request is a message
// of type kBpffsContextMessage carrying one fd, and AnswerBpffsRequest configures that context
// and replies with the mount, or with the error when configuring fails.
inline constexpr uint32_t kBpffsContextMessage = 0x100;
absl::Status AnswerBpffsRequest(int sock, int context_fd, const DelegationPolicy& policy);

}  // namespace tokenbox

#endif  // TOKENBOX_TOKEN_BPFFS_CONFIG_H_
