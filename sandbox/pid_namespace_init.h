#ifndef TOKENBOX_SANDBOX_PID_NAMESPACE_INIT_H_
#define TOKENBOX_SANDBOX_PID_NAMESPACE_INIT_H_

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "sandbox/setup_reporter.h"

namespace tokenbox {

// Moves the rest of a launch into a new pid namespace with its own /proc, and ends in
// `become_program`, run in the process that goes on to become the program: pid 2 under a tiny
// init, or with `program_is_pid1` pid 1 of a second pid namespace nested in the first, under the
// same init. `become_program` is given the parent that process must check for when it sets its
// parent-death signal (sandbox/parent_death.h), and does not return; nor does this function.
// With `program_execs` (a program, not a function) that process borrows pid 1's memory until
// its execve, as a vfork()ed one does, so it must not return into pid 1's frames.
//
// The namespace's proc is mounted at each of `proc_mount_points`. The calling process stays in
// the launcher's pid namespace as a supervisor: it mirrors how the program ended (its exit code,
// or its signal) as its own, so the launcher sees the program's status, and its death kills pid
// 1, and with it the namespace and every namespace nested in it, whatever the program did to its
// own parent-death signal or process group. pid 1 reaps whatever is orphaned onto it until the
// program ends. With `relay_signals` (a sandbox in a session of its own, which the terminal
// cannot signal), each passes SIGINT, SIGTERM, SIGHUP and SIGQUIT on towards the program, and
// pid 1 turns SIGTSTP and SIGCONT into stopping and continuing everything else in the namespace.
// At `deadline` (the command's timeout, on MonotonicNow()'s clock) the supervisor kills pid 1
// itself, so that the timeout holds while the launcher is stopped. Neither keeps a capability,
// and both close `program_fds`, which only the program may hold (the handshake socket, whose
// closing tells the launcher that exec succeeded, and the token).
[[noreturn]] void EnterPidNamespace(
    SetupReporter& reporter, const std::vector<std::string>& proc_mount_points,
    bool program_is_pid1, bool relay_signals, pid_t launcher_pid,
    std::optional<absl::Duration> deadline, const std::vector<int>& program_fds,
    bool program_execs, const std::function<void(std::optional<pid_t> parent)>& become_program);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_PID_NAMESPACE_INIT_H_
