#ifndef TOKENBOX_SANDBOX_THROWAWAY_BPFFS_H_
#define TOKENBOX_SANDBOX_THROWAWAY_BPFFS_H_

#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "token/delegation_policy.h"

namespace tokenbox {

// A delegated bpffs in throwaway namespaces, for a probe or a test that must take each later
// step (the token, a map) itself: forks a child that enters new user and mount namespaces as
// nobody's root and receives a bpffs the caller (which must be privileged) delegates with
// `policy`, exactly as a launch's child does, then runs `fn` there with the detached mount.
// Returns `fn`'s status, or the first failure of the set-up, named by its step. `timeout` bounds
// each step of the handshake; the whole run is bounded as RunInChild() bounds it.
absl::Status RunWithDelegatedBpffs(const DelegationPolicy& policy,
                                   const std::function<absl::Status(int bpffs_fd)>& fn,
                                   absl::Duration timeout = absl::Seconds(10));

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_THROWAWAY_BPFFS_H_
