#ifndef TOKENBOX_SANDBOX_PID_NAMESPACE_INIT_H_
#define TOKENBOX_SANDBOX_PID_NAMESPACE_INIT_H_

#include <signal.h>
#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ns/pipe.h"
#include "sandbox/setup_reporter.h"

namespace tokenbox {

// The signals pid 1 relays to the program. They are blocked from before pid 1 is forked until
// its handlers are in place: pid 1 discards a signal it has no handler for, even from outside
// its namespace, and one sent meanwhile would be lost.
sigset_t RelayedSignals();

// Blocks them in the calling thread; returns the mask it had, to put back.
sigset_t BlockRelayedSignals();

// The pipe pid 1 reports the program's wait status on (RunAsInit()): its read end, the
// launcher's, does not block, since pid 1 writes before it exits; once pid 1 is reaped the
// status is there, or never will be.
absl::StatusOr<Pipe> MakeProgramStatusPipe();

// Mounts the proc of the caller's pid namespace at each of `mount_points`. The caller needs
// CAP_SYS_ADMIN in the user namespace that owns its pid namespace.
absl::Status MountProc(const std::vector<std::string>& mount_points);

// Run by pid 1 of the sandbox's pid namespace once the sandbox is set up; does not return.
// Starts the process that becomes the program: pid 2, or with `program_is_pid1` pid 1 of a
// second pid namespace nested in this one, which mounts its proc at `proc_mount_points`. That
// process runs `become_program`, given the parent it must check for when it sets its
// parent-death signal (sandbox/parent_death.h); it must not return. With `program_execs` (a
// program, not a function) it borrows pid 1's memory until its execve, as a vfork()ed one does.
//
// pid 1 itself then closes `program_fds`, which only the program may hold (the handshake socket,
// whose closing tells the launcher that exec succeeded, and the token), and every other fd but
// `program_status_fd`, keeps no capability, and reaps whatever is orphaned onto it until the
// program ends. Then it writes the program's wait status to `program_status_fd`, for the
// launcher (pid 1 cannot die of a signal it sends itself), and exits, which kills everything
// left in the namespace and in those nested in it. With `relay_signals` (a sandbox in a session
// of its own, which the terminal cannot signal) it passes SIGINT, SIGTERM, SIGHUP and SIGQUIT
// on to the program, and turns SIGTSTP and SIGCONT into stopping and continuing everything else
// in the namespace. At `deadline` (the command's timeout, on MonotonicNow()'s clock) it kills
// everything and reports the program killed, so that the timeout holds while the launcher is
// stopped.
[[noreturn]] void RunAsInit(
    SetupReporter& reporter, const std::vector<std::string>& proc_mount_points,
    bool program_is_pid1, bool relay_signals, std::optional<absl::Duration> deadline,
    const std::vector<int>& program_fds, int program_status_fd, bool program_execs,
    const std::function<void(std::optional<pid_t> parent)>& become_program);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_PID_NAMESPACE_INIT_H_
