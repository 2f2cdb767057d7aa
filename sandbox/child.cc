#include "sandbox/child.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/monotonic_clock.h"

namespace tokenbox {
namespace {

void TakeTerminalBack() {
  sighandler_t old = signal(SIGTTOU, SIG_IGN);
  (void)tcsetpgrp(STDIN_FILENO, getpgrp());
  signal(SIGTTOU, old);
}

}  // namespace

Child::Child(Key, Process process)
    : pid_(process.pid),
      pidfd_(std::move(process.pidfd)),
      kill_process_group_(process.kill_process_group),
      deadline_(process.deadline),
      owns_terminal_(process.owns_terminal),
      caller_stdio_(std::move(process.caller_stdio)),
      host_ids_(std::move(process.host_ids)),
      cgroup_(std::move(process.cgroup)),
      program_status_(std::move(process.program_status)) {}

Child::Child(Child&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::move(other.pidfd_)),
      kill_process_group_(other.kill_process_group_),
      deadline_(other.deadline_),
      owns_terminal_(std::exchange(other.owns_terminal_, false)),
      caller_stdio_(std::exchange(other.caller_stdio_, CallerStdio())),
      host_ids_(std::move(other.host_ids_)),
      cgroup_(std::move(other.cgroup_)),
      terminal_(std::move(other.terminal_)),
      program_status_(std::move(other.program_status_)),
      timed_out_(other.timed_out_),
      exit_status_(std::move(other.exit_status_)),
      rusage_(std::move(other.rusage_)) {}

Child& Child::operator=(Child&& other) noexcept {
  if (this == &other) return *this;
  EndIfRunning();
  pid_ = std::exchange(other.pid_, -1);
  pidfd_ = std::move(other.pidfd_);
  kill_process_group_ = other.kill_process_group_;
  deadline_ = other.deadline_;
  owns_terminal_ = std::exchange(other.owns_terminal_, false);
  caller_stdio_ = std::exchange(other.caller_stdio_, CallerStdio());
  host_ids_ = std::move(other.host_ids_);
  cgroup_ = std::move(other.cgroup_);
  terminal_ = std::move(other.terminal_);
  program_status_ = std::move(other.program_status_);
  timed_out_ = other.timed_out_;
  exit_status_ = std::move(other.exit_status_);
  rusage_ = std::move(other.rusage_);
  return *this;
}

Child::~Child() { EndIfRunning(); }

UniqueFd Child::TakeTerminal() { return std::move(terminal_); }

void Child::AdoptTerminal(Key, UniqueFd primary) { terminal_ = std::move(primary); }

void Child::EndIfRunning() {
  if (pid_ <= 0) return;
  (void)Kill();
  (void)Reap();
}

std::optional<rusage> Child::resource_usage() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return rusage_;
}

absl::Status Child::Kill() {
  std::lock_guard<std::mutex> lock(mutex_);
  return KillLocked(/*timed_out=*/false);
}

absl::Status Child::KillLocked(bool timed_out) {
  if (pid_ <= 0 || exit_status_.has_value()) return absl::OkStatus();
  if (timed_out) timed_out_ = true;
  // Not reaped while the lock is held, so its pid, and with it the group id, cannot have been
  // given to another process.
  if (kill_process_group_) (void)kill(-pid_, SIGKILL);
  // Without a pidfd (a launch that failed to open one), by pid: it is as safe, unreaped.
  if (!pidfd_) {
    if (kill(pid_, SIGKILL) != 0 && errno != ESRCH) return ErrnoStatus(errno, "kill(SIGKILL)");
    return absl::OkStatus();
  }
  if (syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0) != 0 && errno != ESRCH) {
    return ErrnoStatus(errno, "pidfd_send_signal(SIGKILL)");
  }
  return absl::OkStatus();
}

absl::StatusOr<ExitStatus> Child::Reap() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (exit_status_.has_value()) return *exit_status_;
  if (pid_ <= 0) return absl::FailedPreconditionError("this Child was moved from");
  // Wait for the end without reaping: a zombie keeps its pid, so the group kill below can only
  // reach what the program left behind.
  siginfo_t info = {};
  while (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) != 0) {
    if (errno != EINTR) return ErrnoStatus(errno, absl::StrCat("waitid(", pid_, ")"));
  }
  if (kill_process_group_) (void)kill(-pid_, SIGKILL);
  int status = 0;
  rusage usage = {};
  pid_t done;
  do {
    done = wait4(pid_, &status, 0, &usage);
  } while (done < 0 && errno == EINTR);
  if (done < 0) return ErrnoStatus(errno, absl::StrCat("wait4(", pid_, ")"));
  if (program_status_) {
    // pid 1's report, when it made one: it did unless it was killed, or set-up failed.
    int reported = 0;
    if (read(program_status_.get(), &reported, sizeof(reported)) == sizeof(reported)) {
      status = reported;
    }
    program_status_.Reset();
  }
  // The last holder of a lease without a pid namespace ends what left the process group, and
  // the last holder of the cgroup what is left in it.
  host_ids_.reset();
  cgroup_.reset();
  if (owns_terminal_) TakeTerminalBack();
  caller_stdio_.Restore();
  rusage_ = usage;
  // Killed at or after the deadline: the launcher's kill, or pid 1's (which holds the timeout
  // while the launcher is stopped).
  const bool killed_late = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL &&
                           deadline_.has_value() && MonotonicNow() >= *deadline_;
  exit_status_ = timed_out_ || killed_late ? ExitStatus::TimedOut()
                 : WIFSIGNALED(status) ? ExitStatus::Signaled(WTERMSIG(status))
                                       : ExitStatus::Exited(WEXITSTATUS(status));
  return *exit_status_;
}

absl::StatusOr<ExitStatus> Child::WaitUntil(std::optional<absl::Duration> deadline) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (exit_status_.has_value()) return *exit_status_;
  }
  for (;;) {
    int timeout_ms = -1;
    bool deadline_passed = false;
    if (deadline.has_value()) {
      absl::Duration left = *deadline - MonotonicNow();
      deadline_passed = left <= absl::ZeroDuration();
      // Past the deadline the poll still runs, without waiting: a child that ended in time but
      // is waited on late did not time out.
      timeout_ms = deadline_passed ? 0
                                   : static_cast<int>(absl::ToInt64Milliseconds(
                                         absl::Ceil(left, absl::Milliseconds(1))));
    }
    pollfd pfd = {pidfd_.get(), POLLIN, 0};
    int ready = poll(&pfd, 1, timeout_ms);
    if (ready > 0) return Reap();
    if (ready < 0 && errno != EINTR) return ErrnoStatus(errno, "poll(pidfd)");
    if (ready == 0 && deadline_passed) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (absl::Status s = KillLocked(/*timed_out=*/true); !s.ok()) return s;
      }
      return Reap();
    }
  }
}

absl::StatusOr<ExitStatus> Child::Wait() {
  if (pid_ <= 0) return absl::FailedPreconditionError("this Child was moved from");
  return WaitUntil(deadline_);
}

absl::StatusOr<ExitStatus> Child::WaitFor(absl::Duration timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("this Child was moved from");
  absl::Duration deadline = MonotonicNow() + timeout;
  if (deadline_.has_value() && *deadline_ < deadline) deadline = *deadline_;
  return WaitUntil(deadline);
}

}  // namespace tokenbox
