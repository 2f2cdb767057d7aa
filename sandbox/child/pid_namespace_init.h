#ifndef TOKENBOX_SANDBOX_CHILD_PID_NAMESPACE_INIT_H_
#define TOKENBOX_SANDBOX_CHILD_PID_NAMESPACE_INIT_H_

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "sandbox/child/setup_reporter.h"

namespace tokenbox {

// What pid 1 of the sandbox's pid namespace needs to know of the program it runs.
struct InitOptions {
  // The program is not pid 2 but pid 1 of a second pid namespace nested in this one, which
  // mounts its proc at `proc_mount_points`.
  bool program_is_pid1 = false;
  std::vector<std::string> proc_mount_points;
  // A program, not a function: its process borrows pid 1's memory until its execve, as a
  // vfork()ed one does.
  bool program_execs = false;
  // A sandbox in a session of its own, which the terminal cannot signal: SIGINT, SIGTERM, SIGHUP
  // and SIGQUIT go on to the program, and SIGTSTP and SIGCONT stop and continue everything else
  // in the namespace (sandbox/child/signals.h).
  bool relay_signals = false;
  // The command's timeout, on MonotonicNow()'s clock: pid 1 kills everything then and reports the
  // program killed, so that the timeout holds while the launcher is stopped.
  std::optional<absl::Duration> deadline;
  // What only the program may hold (the handshake socket, whose closing tells the launcher that
  // exec succeeded, the token, its terminal), which pid 1 closes once the program is started.
  std::vector<int> program_fds;
  // Where pid 1 reports the program's wait status, for the launcher: pid 1 cannot die of a
  // signal it sends itself.
  int program_status_fd = -1;
};

// Run by pid 1 of the sandbox's pid namespace once the sandbox is set up; does not return.
// Starts the process that becomes the program (pid 2, or pid 1 of a nested namespace, as
// `options` say), which runs `become_program`, given the parent it must check for when it sets
// its parent-death signal (sandbox/child/parent_death.h); it must not return.
//
// pid 1 itself then closes the program's fds and every other fd but the status fd, keeps no
// capability, relays signals and holds the deadline as `options` say, and reaps whatever is
// orphaned onto it until the program ends. Then it writes the program's wait status and exits,
// which kills everything left in the namespace and in those nested in it.
[[noreturn]] void RunAsInit(SetupReporter& reporter, const InitOptions& options,
                            const std::function<void(std::optional<pid_t> parent)>& become_program);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_PID_NAMESPACE_INIT_H_
