#include "sandbox/pid_namespace_init.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/monotonic_clock.h"
#include "sandbox/fd_layout.h"
#include "sandbox/protocol.h"
#include "token/process_capabilities.h"

namespace tokenbox {
namespace {

volatile sig_atomic_t g_program = 0;
volatile sig_atomic_t g_status_fd = -1;

// The signals that interrupt or end a program from its terminal or from tokenbox (which
// forwards them to pid 1) go on to the program. The terminal cannot send them to a sandbox in a
// session of its own. SIGTSTP and SIGCONT (^Z and fg, which tokenbox forwards too) stop or
// continue everything else in the namespace: the program's process group, which it may leave,
// would not be all of it.
constexpr int kRelayedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGCONT};

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

sigset_t RelayedSignals() {
  sigset_t relayed;
  sigemptyset(&relayed);
  for (int sig : kRelayedSignals) sigaddset(&relayed, sig);
  return relayed;
}

sigset_t BlockRelayedSignals() {
  const sigset_t relayed = RelayedSignals();
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &relayed, &previous);
  return previous;
}

absl::StatusOr<Pipe> MakeProgramStatusPipe() {
  absl::StatusOr<Pipe> pipe = MakePipe();
  if (pipe.ok() && fcntl(pipe->read_end.get(), F_SETFL, O_NONBLOCK) != 0) {
    return ErrnoStatus(errno, "fcntl(program status pipe, O_NONBLOCK)",
                       "report this as a tokenbox bug: a new pipe takes O_NONBLOCK");
  }
  return pipe;
}

absl::Status MountProc(const std::vector<std::string>& mount_points) {
  for (const std::string& path : mount_points) {
    if (mount("proc", path.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
      return ErrnoStatus(errno, absl::StrCat("mount(proc, ", Printable(path, 256), ")"),
                         "the sandbox's /proc must be a directory it can mount on");
    }
  }
  return absl::OkStatus();
}

void RunAsInit(SetupReporter& reporter, const std::vector<std::string>& proc_mount_points,
               bool program_is_pid1, bool relay_signals, std::optional<absl::Duration> deadline,
               const std::vector<int>& program_fds, int program_status_fd, bool program_execs,
               const std::function<void(std::optional<pid_t> parent)>& become_program) {
  if (program_is_pid1) {
    // The program must not be this pid 1: a parent-death signal is the program's to clear, and
    // then nothing would end the namespace with the launcher. It becomes pid 1 of a namespace
    // nested in this one, which dies with this one.
    reporter.Step(SetupStep::kCreatePidNamespace, UnsharePidNamespace());
  }
  const pid_t program = StartProgram(program_execs, [&] {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (program_is_pid1) {
      reporter.Step(SetupStep::kMountProc, MountProc(proc_mount_points));
      become_program(std::nullopt);
    }
    become_program(1);
  });
  if (program < 0) reporter.Fail(SetupStep::kStartProgram, ErrnoStatus(errno, "fork"));
  // Only fds from here on: sharing memory, the program's process may have changed the objects
  // that held them. The status fd is close-on-exec, and a function's process closes every fd it
  // was not passed: the program never holds it.
  CloseProgramFds(program_fds);
  (void)CloseFdsExcept({program_status_fd});
  (void)RestrictCapabilities(CapabilitySet());
  g_program = program;
  g_status_fd = program_status_fd;
  ArmDeadline(deadline);
  RelaySignals(relay_signals);
  ReapUntilProgramEnds(program, program_status_fd);
}

}  // namespace tokenbox
