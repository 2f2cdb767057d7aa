#ifndef TOKENBOX_SANDBOX_FORK_THREAD_H_
#define TOKENBOX_SANDBOX_FORK_THREAD_H_

#include <sys/types.h>

#include <functional>

#include "absl/status/statusor.h"

namespace tokenbox {

// Forks the child that runs `in_child` (which must not return); with `as_pid1`, as pid 1 of a
// new pid namespace, with the signals pid 1 relays (sandbox/child/signals.h) blocked across the
// fork, so that none sent to pid 1 before it can relay is lost.
//
// PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, not the process. A
// caller that launches from a short-lived thread (a pool worker, a std::thread per sandbox)
// would see its sandboxes killed as soon as that thread ends. So a child is forked on the main
// thread, whose end is the process's end, when it is the caller, and otherwise on one thread
// that lives as long as the process (which costs a hand-over each way): the sandbox is tied to
// the launcher process, as intended.
absl::StatusOr<pid_t> ForkChild(const std::function<void()>& in_child, bool as_pid1);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_FORK_THREAD_H_
