#ifndef TOKENBOX_TOKEN_BPFFS_CONFIG_H_
#define TOKENBOX_TOKEN_BPFFS_CONFIG_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "ns/unique_fd.h"
#include "token/delegation_policy.h"

namespace tokenbox {

// The privileged launcher's part of a delegation (sandbox/delegate_to_child.h carries the
// fds across). `fs_fd` is a bpffs context that the sandboxed child opened with
// fsopen("bpf") inside its own user and mount namespace, so the superblock belongs to the child's
// user namespace. Sets the four delegate_* options, creates the superblock and returns the
// detached mount (fsmount). Names go in one fsconfig call per option; a bit this build cannot
// name goes as a number in a call of its own, because a number inside a string overwrites what
// came before it in the kernel's parser. Needs CAP_SYS_ADMIN in the initial user namespace.
absl::StatusOr<UniqueFd> ConfigureDelegatedBpffs(int fs_fd, const DelegationPolicy& policy);

}  // namespace tokenbox

#endif  // TOKENBOX_TOKEN_BPFFS_CONFIG_H_
