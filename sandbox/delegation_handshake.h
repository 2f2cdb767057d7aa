#ifndef TOKENBOX_SANDBOX_DELEGATION_HANDSHAKE_H_
#define TOKENBOX_SANDBOX_DELEGATION_HANDSHAKE_H_

#include <sys/types.h>

#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ns/id_map.h"
#include "ns/unique_fd.h"
#include "sandbox/setup_step.h"
#include "token/delegation_policy.h"

namespace tokenbox {

// The first half of setting up any delegated sandbox, up to the delegated bpffs: the launcher
// (with its child), `tokenbox probe` and the token tests all run exactly this, over one
// socketpair (sandbox/protocol.h). Every failure is a set-up failure naming its step; a failure
// the other side reports arrives as that side's own.

// Called after each step that succeeded, for --verbose.
using StepObserver = std::function<void(SetupStep)>;

// The child's part, first: drops its supplementary groups, becomes host `uid`/`gid` (the ids
// the sandbox's root maps to; a leased uid first ends whatever still runs as it), unshares a
// user and a mount namespace (and `extra_clone_flags`), waits while the launcher writes its id
// maps, becomes the mapped root and makes every mount private, so nothing it mounts reaches the
// host.
absl::Status EnterDelegatedNamespaces(int sock, uid_t uid, gid_t gid, int extra_clone_flags,
                                      absl::Duration timeout, const StepObserver& observer = {});

// The child's part, then (once it has arranged its mounts): opens a bpffs context in its own
// namespaces, so that the superblock belongs to its user namespace, and receives it back from
// the launcher delegated and mounted (detached). The caller names the step of a failure here;
// only a refusal by the launcher arrives named already.
absl::StatusOr<UniqueFd> ReceiveDelegatedBpffs(int sock, absl::Duration timeout);

// The launcher's part, for the child `pid`: writes its id maps when it has unshared, then
// delegates `policy` on the bpffs context it sends (token/bpffs_config.h) and sends the mount
// back. Returns once the mount is sent.
absl::Status DelegateToChild(int sock, pid_t pid, const IdMap& uid_map, const IdMap& gid_map,
                             const DelegationPolicy& policy, absl::Duration timeout,
                             const StepObserver& observer = {});

// All of it at once, for a probe or a test that must take each later step itself: forks a
// child that enters new user and mount namespaces as nobody's root and receives a bpffs the
// caller (which must be privileged) delegates with `policy`, then runs `fn` there with the
// detached mount. Returns `fn`'s status, or the first failure of the set-up. `timeout` bounds
// each step of the handshake; the whole run is bounded as RunInChild() bounds it.
absl::Status RunWithDelegatedBpffs(const DelegationPolicy& policy,
                                   const std::function<absl::Status(int bpffs_fd)>& fn,
                                   absl::Duration timeout = absl::Seconds(10));

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_DELEGATION_HANDSHAKE_H_
