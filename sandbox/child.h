#ifndef TOKENBOX_SANDBOX_CHILD_H_
#define TOKENBOX_SANDBOX_CHILD_H_

#include <sys/resource.h>
#include <sys/types.h>

#include <memory>
#include <mutex>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ns/unique_fd.h"
#include "sandbox/exit_status.h"

namespace tokenbox {

struct ChildProcess;  // The launcher's own parts of it: sandbox/child_process.h.

// A launched sandbox. Owns its process: waiting goes through the pidfd and reaps only this pid.
// Destroying a Child that is still running kills the whole sandbox and reaps it, so no process
// or zombie outlives its handle.
//
// Threads: Wait(), WaitFor(), Kill(), resource_usage(), pid() and pidfd() may be called at the
// same time from different threads; waiting on one thread and killing from another is the
// intended use, and every waiter gets the same ExitStatus. Nothing is ever signalled by pid
// after the process was reaped, so a recycled pid or process group is never hit. Moving,
// assigning and destroying a Child must not overlap any other call on it.
class Child {
 public:
  Child(Child&& other) noexcept;
  // Kills and reaps the sandbox this Child held, if it still runs, then takes `other`'s.
  Child& operator=(Child&& other) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  pid_t pid() const;
  int pidfd() const;

  // Waits for the sandbox to end. With a timeout in the command, a sandbox still running at the
  // deadline (counted from launch) is killed and reported as timed out.
  absl::StatusOr<ExitStatus> Wait();
  // Waits at most `timeout` (and never past the command's deadline); then kills and reports so.
  absl::StatusOr<ExitStatus> WaitFor(absl::Duration timeout);
  // Kills the whole sandbox: its pid namespace, or its process group when it has none. Does
  // nothing once the sandbox has been waited for.
  absl::Status Kill();
  // Sends `sig` to the sandbox's first process (its pid 1 passes SIGINT, SIGTERM, SIGHUP and
  // SIGQUIT on to the program, and stops or continues it all for SIGTSTP and SIGCONT). Safe in
  // a signal handler, where a launcher forwards what its terminal sent it; what cannot be sent
  // is dropped.
  void Signal(int sig) const;

  // Resource usage of the sandbox's first process, once it has been waited for.
  std::optional<rusage> resource_usage() const;

  // The primary end of the program's pseudo-terminal (CommandBuilder::OwnTerminal()), for the
  // caller to relay; invalid without one, or once taken.
  UniqueFd TakeTerminal();

 private:
  // Only the launcher's start of a sandbox (sandbox/child_start.h) makes a Child.
  friend class ChildStart;
  explicit Child(std::unique_ptr<ChildProcess> process);

  absl::StatusOr<ExitStatus> WaitUntil(std::optional<absl::Duration> deadline);
  // Kills the sandbox, noting the kill as the timeout's when `timed_out`.
  absl::Status KillLocked(bool timed_out);
  // Reaps the sandbox once it has ended (or returns how it ended, if another thread reaped it).
  absl::StatusOr<ExitStatus> Reap();
  // Reap() of a sandbox tokenboxd started: its report of the end.
  absl::StatusOr<ExitStatus> ReapServed();
  void EndIfRunning();

  // Null once moved from.
  std::unique_ptr<ChildProcess> process_;

  mutable std::mutex mutex_;  // Guards what follows, and the reaping of the process.
  bool timed_out_ = false;
  std::optional<ExitStatus> exit_status_;
  std::optional<rusage> rusage_;
};

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_H_
