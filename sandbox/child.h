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
#include "sandbox/caller_stdio.h"
#include "sandbox/exit_status.h"
#include "sandbox/host_id_lease.h"
#include "sandbox/sandbox_cgroup.h"

namespace tokenbox {

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
  // Only the launcher and ForkServer make a Child.
  class Key {
    Key() = default;
    friend class ParentSetup;
    friend class ForkServer;
  };
  struct Process {
    pid_t pid = -1;
    UniqueFd pidfd;
    // Without a pid namespace the sandbox is its own process group, and ending it means
    // killing the group.
    bool kill_process_group = false;
    std::optional<absl::Duration> deadline;  // On MonotonicNow()'s clock.
    bool owns_terminal = false;              // The sandbox was given the terminal's foreground.
    CallerStdio caller_stdio;                // Put back once the sandbox is reaped.
    // Given back (by this Child, if it holds them last) once the sandbox is reaped.
    std::shared_ptr<const HostIdLease> host_ids;
    // Removed (by this Child, if it holds it last) once the sandbox is reaped, after the above.
    std::shared_ptr<const SandboxCgroup> cgroup;
    // Where the sandbox's pid 1 reports the program's wait status before it exits (non-blocking;
    // none without a pid namespace): pid 1 itself cannot end by the program's signal.
    UniqueFd program_status;
  };
  Child(Key, Process process);

  Child(Child&& other) noexcept;
  // Kills and reaps the sandbox this Child held, if it still runs, then takes `other`'s.
  Child& operator=(Child&& other) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }

  // Waits for the sandbox to end. With a timeout in the command, a sandbox still running at the
  // deadline (counted from launch) is killed and reported as timed out.
  absl::StatusOr<ExitStatus> Wait();
  // Waits at most `timeout` (and never past the command's deadline); then kills and reports so.
  absl::StatusOr<ExitStatus> WaitFor(absl::Duration timeout);
  // Kills the whole sandbox: its pid namespace, or its process group when it has none. Does
  // nothing once the sandbox has been waited for.
  absl::Status Kill();

  // Resource usage of the sandbox's first process, once it has been waited for.
  std::optional<rusage> resource_usage() const;

  // The primary end of the program's pseudo-terminal (CommandBuilder::OwnTerminal()), for the
  // caller to relay; invalid without one, or once taken.
  UniqueFd TakeTerminal();
  // The launcher's part: that end, as the child sent it (ReceiveOwnTerminal()).
  void AdoptTerminal(Key, UniqueFd primary);

 private:
  absl::StatusOr<ExitStatus> WaitUntil(std::optional<absl::Duration> deadline);
  // Kills the sandbox, noting the kill as the timeout's when `timed_out`.
  absl::Status KillLocked(bool timed_out);
  // Reaps the sandbox once it has ended (or returns how it ended, if another thread reaped it).
  absl::StatusOr<ExitStatus> Reap();
  void EndIfRunning();

  pid_t pid_ = -1;
  UniqueFd pidfd_;
  bool kill_process_group_ = false;
  std::optional<absl::Duration> deadline_;
  bool owns_terminal_ = false;
  CallerStdio caller_stdio_;
  std::shared_ptr<const HostIdLease> host_ids_;
  std::shared_ptr<const SandboxCgroup> cgroup_;
  UniqueFd terminal_;
  UniqueFd program_status_;

  mutable std::mutex mutex_;  // Guards what follows, and the reaping of pid_.
  bool timed_out_ = false;
  std::optional<ExitStatus> exit_status_;
  std::optional<rusage> rusage_;
};

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_H_
