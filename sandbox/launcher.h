#ifndef TOKENBOX_SANDBOX_LAUNCHER_H_
#define TOKENBOX_SANDBOX_LAUNCHER_H_

#include <sys/resource.h>
#include <sys/types.h>

#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ns/unique_fd.h"
#include "sandbox/exit_status.h"
#include "sandbox/sandbox_spec.h"

namespace tokenbox {

// A launched sandbox. Owns its process: waiting goes through the pidfd and reaps only this pid.
// Destroying a Child that is still running kills the whole sandbox and reaps it, so no process
// or zombie outlives its handle.
class Child {
 public:
  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) = delete;
  Child(const Child&) = delete;
  ~Child();

  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }

  // Waits for the sandbox to end. With a timeout in the spec, a sandbox still running at the
  // deadline (counted from launch) is killed and reported as timed out.
  absl::StatusOr<ExitStatus> Wait();
  // Waits at most `timeout` (and never past the spec's deadline); then kills and reports so.
  absl::StatusOr<ExitStatus> WaitFor(absl::Duration timeout);
  // Kills the whole sandbox: its pid namespace, or its process group when it has none.
  absl::Status Kill();

  // Resource usage of the sandbox's first process, once it has been waited for.
  const std::optional<rusage>& resource_usage() const { return rusage_; }

 private:
  friend class Launcher;
  friend class ForkServer;
  Child(pid_t pid, UniqueFd pidfd, bool kill_process_group, std::optional<absl::Duration> deadline,
        bool owns_terminal);
  absl::StatusOr<ExitStatus> WaitUntil(std::optional<absl::Duration> deadline);
  absl::StatusOr<ExitStatus> Reap(bool timed_out);

  pid_t pid_ = -1;
  UniqueFd pidfd_;
  bool kill_process_group_ = false;
  std::optional<absl::Duration> deadline_;  // On MonotonicNow()'s clock.
  bool owns_terminal_ = false;  // The sandbox was given the terminal's foreground.
  std::optional<ExitStatus> exit_status_;
  std::optional<rusage> rusage_;
};

struct LaunchOptions {
  bool verbose = false;  // Print each set-up step and its time to stderr.
};

// Starts the sandbox the spec describes and returns once the program runs (execve succeeded or
// the function started). The caller must hold CAP_SYS_ADMIN in the initial user namespace.
// A failure at any step, in the launcher or in the child, comes back as
//   "sandbox set-up failed at '<step>': <syscall>: <ERRNO> (...): <remedy>"
// (SetupStepOf() gives the step), after the child has been killed and reaped.
absl::StatusOr<Child> Launch(const SandboxSpec& spec, const LaunchOptions& options = {});

// For ForkServer: sets the sandbox up as Launch() does, then leaves a zygote serving launches
// on the returned socket instead of running the spec's program.
struct ZygoteHandle {
  Child zygote;
  UniqueFd sock;
};
absl::StatusOr<ZygoteHandle> LaunchZygote(const SandboxSpec& spec, const LaunchOptions& options);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_LAUNCHER_H_
