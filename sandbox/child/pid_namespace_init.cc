#include "sandbox/child/pid_namespace_init.h"

#include <sched.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "ns/errno_status.h"
#include "ns/monotonic_clock.h"
#include "sandbox/child/fd_layout.h"
#include "sandbox/child/kernel_mounts.h"
#include "sandbox/child/signals.h"
#include "sandbox/protocol.h"
#include "token/process_capabilities.h"

namespace tokenbox {
namespace {

volatile sig_atomic_t g_program = 0;
volatile sig_atomic_t g_status_fd = -1;

void Relay(int sig) {
  if (sig == SIGTSTP || sig == SIGCONT) {
    // From pid 1, -1 is every other process of its namespace, nested ones included.
    kill(-1, sig == SIGTSTP ? SIGSTOP : SIGCONT);
  } else if (g_program > 0) {
    kill(static_cast<pid_t>(g_program), sig);
  }
}

// The deadline: everything in the namespace dies, and the program's end is reported as a kill.
void EndAtDeadline(int) {
  kill(-1, SIGKILL);
  const int killed = SIGKILL;  // A wait status: killed by SIGKILL.
  if (g_status_fd >= 0) (void)!write(g_status_fd, &killed, sizeof(killed));
  _exit(128 + SIGKILL);
}

// With `relay`, installs the handlers that pass signals on to the program; then unblocks them.
void RelaySignals(bool relay) {
  sigset_t relayed = RelayedSignals();
  if (relay) {
    struct sigaction action = {};
    action.sa_handler = Relay;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    for (int sig : kRelayedSignals) sigaction(sig, &action, nullptr);
  }
  sigprocmask(SIG_UNBLOCK, &relayed, nullptr);
}

// The launcher enforces the command's timeout, but it may be stopped (^Z, SIGSTOP) at the
// deadline: pid 1 holds it anyway, a little after the launcher's own, which normally wins.
void ArmDeadline(std::optional<absl::Duration> deadline) {
  constexpr absl::Duration kAfterLauncher = absl::Milliseconds(200);
  if (!deadline.has_value()) return;
  struct sigaction action = {};
  action.sa_handler = EndAtDeadline;
  sigemptyset(&action.sa_mask);
  sigaction(SIGALRM, &action, nullptr);
  const absl::Duration left =
      std::max(*deadline + kAfterLauncher - MonotonicNow(), absl::Microseconds(1));
  itimerval timer = {};
  timer.it_value = absl::ToTimeval(left);
  setitimer(ITIMER_REAL, &timer, nullptr);
}

// Reaps everything until the program ends, then reports its wait status and ends the namespace
// by exiting.
[[noreturn]] void ReapUntilProgramEnds(pid_t program, int status_fd) {
  for (;;) {
    int status;
    pid_t done = wait(&status);
    if (done == program) {
      // Blocked, so that the deadline cannot report a second status.
      sigset_t alarm;
      sigemptyset(&alarm);
      sigaddset(&alarm, SIGALRM);
      sigprocmask(SIG_BLOCK, &alarm, nullptr);
      (void)!write(status_fd, &status, sizeof(status));
      _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    if (done < 0 && errno == ECHILD) _exit(kSetupFailedExitCode);
  }
}

// What the program's process holds until it starts (the handshake socket, whose closing tells
// the launcher that exec succeeded, the token, a terminal of its own), closed by number in pid
// 1.
void CloseProgramFds(const std::vector<int>& fds) {
  for (int fd : fds) close(fd);
}

// Starts the process that becomes the program, running `in_child`, which does not return. A
// program that execs is started as vfork() starts one: it borrows pid 1's memory until its
// execve, so there are no page tables to copy, which on a VM costs more than the rest of the
// step; pid 1 waits meanwhile. A function never execs, so it gets a copy.
pid_t StartProgram(bool program_execs, const std::function<void()>& in_child) {
  const pid_t pid = program_execs ? vfork() : fork();
  if (pid == 0) {
    in_child();
    _exit(kSetupFailedExitCode);  // Not reached.
  }
  return pid;
}

absl::Status UnsharePidNamespace() {
  if (unshare(CLONE_NEWPID) == 0) return absl::OkStatus();
  return ErrnoStatus(errno, "unshare(CLONE_NEWPID)",
                     "check /proc/sys/user/max_pid_namespaces, or run without a pid namespace "
                     "(--no-unshare-pid)");
}

}  // namespace

void RunAsInit(SetupReporter& reporter, const InitOptions& options,
               const std::function<void(std::optional<pid_t> parent)>& become_program) {
  if (options.program_is_pid1) {
    // The program must not be this pid 1: a parent-death signal is the program's to clear, and
    // then nothing would end the namespace with the launcher. It becomes pid 1 of a namespace
    // nested in this one, which dies with this one.
    reporter.Step(SetupStep::kCreatePidNamespace, UnsharePidNamespace());
  }
  const pid_t program = StartProgram(options.program_execs, [&] {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (options.program_is_pid1) {
      reporter.Step(SetupStep::kMountProc, MountProc(options.proc_mount_points));
      become_program(std::nullopt);
    }
    become_program(1);
  });
  if (program < 0) reporter.Fail(SetupStep::kStartProgram, ErrnoStatus(errno, "fork"));
  // Only fds from here on: sharing memory, the program's process may have changed the objects
  // that held them. The status fd is close-on-exec, and a function's process closes every fd it
  // was not passed: the program never holds it.
  CloseProgramFds(options.program_fds);
  (void)CloseFdsExcept({options.program_status_fd});
  (void)RestrictCapabilities(CapabilitySet());
  g_program = program;
  g_status_fd = options.program_status_fd;
  ArmDeadline(options.deadline);
  RelaySignals(options.relay_signals);
  ReapUntilProgramEnds(program, options.program_status_fd);
}

}  // namespace tokenbox
