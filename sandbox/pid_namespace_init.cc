#include "sandbox/pid_namespace_init.h"

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/monotonic_clock.h"
#include "ns/pipe.h"
#include "ns/unique_fd.h"
#include "sandbox/fd_layout.h"
#include "sandbox/parent_death.h"
#include "sandbox/protocol.h"
#include "token/process_capabilities.h"

namespace tokenbox {
namespace {

volatile sig_atomic_t g_relay_to = 0;
volatile sig_atomic_t g_stop_everyone = 0;  // In pid 1: stop and continue the whole namespace.

void Relay(int sig) {
  if (g_stop_everyone && (sig == SIGTSTP || sig == SIGCONT)) {
    // From pid 1, -1 is every other process of its namespace, nested ones included.
    kill(-1, sig == SIGTSTP ? SIGSTOP : SIGCONT);
  } else if (g_relay_to > 0) {
    kill(static_cast<pid_t>(g_relay_to), sig);
  }
}

// The signals that interrupt or end a program from its terminal or from tokenbox (which
// forwards them to the supervisor) go on to the next process towards the program. The
// terminal cannot send them to a sandbox in a session of its own. SIGTSTP and SIGCONT (^Z and
// fg, which tokenbox forwards too) go on to pid 1, which stops or continues everything else in
// the namespace: the program's process group, which it may leave, would not be all of it.
constexpr int kRelayedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGCONT};

// Relayed signals are blocked from before each fork until the parent relays them, so that one
// sent in between waits instead of being lost: pid 1 discards a signal from outside its
// namespace that it has no handler for, and the program may be ready (and signalled) before
// pid 1 has installed its handlers.
sigset_t BlockRelayedSignals() {
  sigset_t relayed, previous;
  sigemptyset(&relayed);
  for (int sig : kRelayedSignals) sigaddset(&relayed, sig);
  sigprocmask(SIG_BLOCK, &relayed, &previous);
  return previous;
}

// With `relay`, installs the handlers that pass signals on to `pid`; then unblocks.
void RelaySignalsTo(pid_t pid, bool is_pid1, bool relay, const sigset_t& unblocked) {
  if (relay) {
    g_relay_to = pid;
    g_stop_everyone = is_pid1;
    struct sigaction action = {};
    action.sa_handler = Relay;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    for (int sig : kRelayedSignals) sigaction(sig, &action, nullptr);
  }
  sigprocmask(SIG_SETMASK, &unblocked, nullptr);
}

// pid 1: reaps everything until the program ends, then hands its wait status to the supervisor.
[[noreturn]] void ReapUntilProgramEnds(pid_t program, int report_fd) {
  for (;;) {
    int status;
    pid_t done = wait(&status);
    if (done == program) {
      (void)!write(report_fd, &status, sizeof(status));
      _exit(0);
    }
    if (done < 0 && errno == ECHILD) _exit(0);
  }
}

// Waits for pid 1 to end, or kills it at `deadline`; whether it was killed. The launcher
// enforces the command's timeout, but it may be stopped (^Z, SIGSTOP) at the deadline: this
// holds it anyway, a little after the launcher's own, which normally wins.
bool WaitForInit(pid_t init, std::optional<absl::Duration> deadline) {
  constexpr absl::Duration kAfterLauncher = absl::Milliseconds(200);
  if (!deadline.has_value()) return false;
  UniqueFd init_fd(static_cast<int>(syscall(SYS_pidfd_open, init, 0)));
  while (init_fd) {
    const absl::Duration left = *deadline + kAfterLauncher - MonotonicNow();
    pollfd ended = {init_fd.get(), POLLIN, 0};
    const int ready = poll(&ended, 1,
                           left <= absl::ZeroDuration()
                               ? 0
                               : static_cast<int>(absl::ToInt64Milliseconds(
                                     absl::Ceil(left, absl::Milliseconds(1)))));
    if (ready > 0 || (ready < 0 && errno != EINTR)) break;
    if (ready == 0) {
      kill(init, SIGKILL);  // pid 1's death ends its namespace and every one nested in it.
      return true;
    }
  }
  return false;
}

// The supervisor: ends as the program ended, or as pid 1 did when pid 1 was the program or
// died before reporting; killed, as a timeout kills, when it killed pid 1 at the deadline.
[[noreturn]] void MirrorProgramStatus(pid_t init, const UniqueFd& report,
                                      std::optional<absl::Duration> deadline) {
  const bool timed_out = WaitForInit(init, deadline);
  int init_status = 0;
  while (waitpid(init, &init_status, 0) < 0 && errno == EINTR) {
  }
  int program_status = init_status;
  if (timed_out ||
      read(report.get(), &program_status, sizeof(program_status)) != sizeof(program_status)) {
    program_status = timed_out ? SIGKILL : init_status;  // A wait status: killed by SIGKILL.
  }
  if (WIFEXITED(program_status)) _exit(WEXITSTATUS(program_status));
  int sig = WTERMSIG(program_status);
  rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  signal(sig, SIG_DFL);
  raise(sig);
  _exit(128 + sig);
}

// The supervisor and pid 1 never exec, so close-on-exec does not close what they inherited from
// the launcher: every fd above 2 but `report` goes, lest a pipe's write end the launcher holds
// stay open in them (its reader would see no end-of-file) for as long as the sandbox runs.
void KeepOnly(const UniqueFd& report) { (void)CloseFdsExcept({report.get()}); }

// What the program's process holds until it starts (the handshake socket, whose closing tells
// the launcher that exec succeeded, the token, a terminal of its own), closed by number in the
// processes above it.
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

// Run by pid 1 of the namespace whose /proc it is.
absl::Status MountProc(const std::vector<std::string>& mount_points) {
  for (const std::string& path : mount_points) {
    if (mount("proc", path.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
      return ErrnoStatus(errno, absl::StrCat("mount(proc, ", Printable(path, 256), ")"),
                         "the sandbox's /proc must be a directory it can mount on");
    }
  }
  return absl::OkStatus();
}

}  // namespace

void EnterPidNamespace(SetupReporter& reporter, const std::vector<std::string>& proc_mount_points,
                       bool program_is_pid1, bool relay_signals, pid_t launcher_pid,
                       std::optional<absl::Duration> deadline,
                       const std::vector<int>& program_fds, bool program_execs,
                       const std::function<void(std::optional<pid_t> parent)>& become_program) {
  reporter.Step(SetupStep::kCreatePidNamespace, UnsharePidNamespace());
  reporter.Step(SetupStep::kSetParentDeathSignal, SetParentDeathSignal(launcher_pid));
  absl::StatusOr<Pipe> report = MakePipe();
  if (!report.ok()) reporter.Fail(SetupStep::kCreatePidNamespace, report.status());
  // pid 1 sees its parent as pid 0, so getppid() cannot tell it that the supervisor died before
  // its PR_SET_PDEATHSIG took hold; a pidfd of the supervisor can.
  UniqueFd supervisor(static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0)));
  if (!supervisor) {
    reporter.Fail(SetupStep::kCreatePidNamespace, ErrnoStatus(errno, "pidfd_open(self)"));
  }
  const sigset_t unblocked = BlockRelayedSignals();
  pid_t init = fork();
  if (init < 0) reporter.Fail(SetupStep::kCreatePidNamespace, ErrnoStatus(errno, "fork(pid 1)"));
  if (init > 0) {
    report->write_end.Reset();
    supervisor.Reset();
    CloseProgramFds(program_fds);
    KeepOnly(report->read_end);
    (void)RestrictCapabilities(CapabilitySet());
    RelaySignalsTo(init, /*is_pid1=*/false, relay_signals, unblocked);
    MirrorProgramStatus(init, report->read_end, deadline);
  }
  report->read_end.Reset();
  reporter.Step(SetupStep::kSetParentDeathSignalOfPid1, SetParentDeathSignal(std::nullopt));
  pollfd exited = {.fd = supervisor.get(), .events = POLLIN};
  if (poll(&exited, 1, 0) != 0) {
    reporter.Fail(SetupStep::kSetParentDeathSignalOfPid1,
                  absl::AbortedError("the supervisor died during set-up"));
  }
  supervisor.Reset();
  if (program_is_pid1) {
    // The program must not be this pid 1: a parent-death signal is the program's to clear, and
    // then nothing would end the namespace with the supervisor. It becomes pid 1 of a namespace
    // nested in this one, which dies with this one.
    reporter.Step(SetupStep::kCreatePidNamespace, UnsharePidNamespace());
  } else {
    reporter.Step(SetupStep::kMountProc, MountProc(proc_mount_points));
  }
  // The report pipe's write end is close-on-exec, and a function's process closes every fd it
  // was not passed: the program never holds it.
  const int report_fd = report->write_end.get();
  const pid_t program = StartProgram(program_execs, [&] {
    sigprocmask(SIG_SETMASK, &unblocked, nullptr);
    if (program_is_pid1) {
      reporter.Step(SetupStep::kMountProc, MountProc(proc_mount_points));
      become_program(std::nullopt);
    }
    become_program(1);
  });
  if (program < 0) reporter.Fail(SetupStep::kStartProgram, ErrnoStatus(errno, "fork"));
  // Only fds from here on: sharing memory, the program's process may have changed the objects
  // that held them.
  CloseProgramFds(program_fds);
  (void)CloseFdsExcept({report_fd});
  (void)RestrictCapabilities(CapabilitySet());
  RelaySignalsTo(program, /*is_pid1=*/true, relay_signals, unblocked);
  ReapUntilProgramEnds(program, report_fd);
}

}  // namespace tokenbox
