#ifndef TOKENBOX_NS_RUN_IN_CHILD_H_
#define TOKENBOX_NS_RUN_IN_CHILD_H_

#include <sys/types.h>

#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace tokenbox {

// Runs `fn` in a forked child and returns the status it produced (code, errno and message).
// For work that must not touch the caller: entering a namespace, dropping privileges, probing.
// A child that dies before reporting is an error; one that does not report within `timeout` is
// killed. The child is always reaped before this returns.
absl::Status RunInChild(const std::function<absl::Status()>& fn,
                        absl::Duration timeout = absl::Seconds(30));

// The same, for work that needs the parent's help midway (the parent writing the child's id
// maps, or configuring what the child opened): `child_fn` runs in the child and `parent_fn` in
// the caller, at once, each with its end of one SOCK_SEQPACKET socketpair (ns/fd_passing.h) to
// talk over. When either side fails, the child's error wins when it has one (it is the root
// cause: the parent side then only saw the child go away); otherwise the parent's, and a child
// still waiting on a failed parent is killed.
absl::Status RunInChild(const std::function<absl::Status(int sock)>& child_fn,
                        const std::function<absl::Status(pid_t pid, int sock)>& parent_fn,
                        absl::Duration timeout = absl::Seconds(30));

}  // namespace tokenbox

#endif  // TOKENBOX_NS_RUN_IN_CHILD_H_
