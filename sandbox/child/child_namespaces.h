#ifndef TOKENBOX_SANDBOX_CHILD_CHILD_NAMESPACES_H_
#define TOKENBOX_SANDBOX_CHILD_CHILD_NAMESPACES_H_

#include <sys/types.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "sandbox/child/setup_reporter.h"
#include "sandbox/sandbox.h"

namespace tokenbox {

// The namespaces the child makes besides its user and mount namespaces, as clone flags:
// network, IPC, UTS and cgroup, as `namespaces` asks. CLONE_NEWPID is not among them: it applies
// to children, and the launcher forks the child into its pid namespace.
int OtherNamespaceFlags(const NewNamespaces& namespaces);

// The child's way into its user namespace, each part a set-up step on `reporter`: drops its
// supplementary groups, becomes host `uid`/`gid` (the ids the sandbox's root maps to; a leased
// uid first ends whatever still runs as it), unshares a user and a mount namespace (and
// `other_flags`), waits on the reporter's socket while the launcher writes its id maps, becomes
// the mapped root and makes every mount private, so nothing it mounts reaches the host.
void EnterSandboxNamespaces(SetupReporter& reporter, uid_t uid, gid_t gid, int other_flags,
                            absl::Duration timeout);

// In the sandbox's network namespace: loopback, up.
absl::Status BringUpLoopback();

// In the sandbox's UTS namespace: the hostname "tokenbox".
absl::Status SetSandboxHostname();

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_CHILD_NAMESPACES_H_
