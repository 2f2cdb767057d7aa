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
#include "ns/fd_passing.h"
#include "sandbox/child_process.h"
#include "sandbox/service/service_protocol.h"

namespace tokenbox {
namespace {

void TakeTerminalBack() {
  sighandler_t old = signal(SIGTTOU, SIG_IGN);
  (void)tcsetpgrp(STDIN_FILENO, getpgrp());
  signal(SIGTTOU, old);
}

absl::Status MovedFrom() { return absl::FailedPreconditionError("this Child was moved from"); }

}  // namespace

Child::Child(std::unique_ptr<ChildProcess> process) : process_(std::move(process)) {}

Child::Child(Child&& other) noexcept
    : process_(std::move(other.process_)),
      timed_out_(other.timed_out_),
      exit_status_(std::move(other.exit_status_)),
      rusage_(std::move(other.rusage_)) {}

Child& Child::operator=(Child&& other) noexcept {
  if (this == &other) return *this;
  EndIfRunning();
  process_ = std::move(other.process_);
  timed_out_ = other.timed_out_;
  exit_status_ = std::move(other.exit_status_);
  rusage_ = std::move(other.rusage_);
  return *this;
}

Child::~Child() { EndIfRunning(); }

pid_t Child::pid() const { return process_ ? process_->pid : -1; }

int Child::pidfd() const { return process_ ? process_->pidfd.get() : -1; }

UniqueFd Child::TakeTerminal() { return process_ ? std::move(process_->terminal) : UniqueFd(); }

void Child::EndIfRunning() {
  if (!process_) return;
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

void Child::Signal(int sig) const {
  if (!process_) return;
  if (process_->service) {
    SendSignalFromHandler(process_->service.get(), sig);
  } else {
    (void)syscall(SYS_pidfd_send_signal, process_->pidfd.get(), sig, nullptr, 0);
  }
}

absl::Status Child::KillLocked(bool timed_out) {
  if (!process_ || exit_status_.has_value()) return absl::OkStatus();
  if (timed_out) timed_out_ = true;
  if (process_->service) {
    // tokenboxd kills it, and then reports its end; a daemon that is gone has ended it already.
    absl::Status sent = SendFdMessage(process_->service.get(), kServiceKill);
    return sent.ok() || IsPeerClosed(sent) || ErrnoOf(sent) == EPIPE ? absl::OkStatus() : sent;
  }
  const pid_t pid = process_->pid;
  // Not reaped while the lock is held, so its pid, and with it the group id, cannot have been
  // given to another process.
  if (process_->kill_process_group) (void)kill(-pid, SIGKILL);
  // Without a pidfd (a launch that failed to open one), by pid: it is as safe, unreaped.
  if (!process_->pidfd) {
    if (kill(pid, SIGKILL) != 0 && errno != ESRCH) return ErrnoStatus(errno, "kill(SIGKILL)");
    return absl::OkStatus();
  }
  if (syscall(SYS_pidfd_send_signal, process_->pidfd.get(), SIGKILL, nullptr, 0) != 0 &&
      errno != ESRCH) {
    return ErrnoStatus(errno, "pidfd_send_signal(SIGKILL)");
  }
  return absl::OkStatus();
}

absl::StatusOr<ExitStatus> Child::ReapServed() {
  for (;;) {
    absl::StatusOr<FdMessage> message = ReceiveFdMessage(process_->service.get());
    if (!message.ok()) {
      process_->caller_stdio.Restore();
      return absl::UnavailableError(absl::StrCat(
          "tokenboxd, which started the sandbox, went away before it ended: ",
          message.status().message()));
    }
    if (message->type != kServiceEnded) continue;
    absl::StatusOr<ServiceEnd> end = DecodeServiceEnd(message->payload);
    if (!end.ok()) return end.status();
    process_->service.Reset();
    process_->caller_stdio.Restore();
    rusage_ = end->usage;
    exit_status_ = timed_out_ ? ExitStatus::TimedOut() : end->status;
    return *exit_status_;
  }
}

absl::StatusOr<ExitStatus> Child::Reap() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (exit_status_.has_value()) return *exit_status_;
  if (!process_) return MovedFrom();
  if (process_->service) return ReapServed();
  const pid_t pid = process_->pid;
  // Wait for the end without reaping: a zombie keeps its pid, so the group kill below can only
  // reach what the program left behind.
  siginfo_t info = {};
  while (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) != 0) {
    if (errno != EINTR) return ErrnoStatus(errno, absl::StrCat("waitid(", pid, ")"));
  }
  if (process_->kill_process_group) (void)kill(-pid, SIGKILL);
  int status = 0;
  rusage usage = {};
  pid_t done;
  do {
    done = wait4(pid, &status, 0, &usage);
  } while (done < 0 && errno == EINTR);
  if (done < 0) return ErrnoStatus(errno, absl::StrCat("wait4(", pid, ")"));
  if (process_->program_status) {
    // pid 1's report, when it made one: it did unless it was killed, or set-up failed.
    int reported = 0;
    if (read(process_->program_status.get(), &reported, sizeof(reported)) == sizeof(reported)) {
      status = reported;
    }
    process_->program_status.Reset();
  }
  // The last holder of a lease without a pid namespace ends what left the process group, and
  // the last holder of the cgroup what is left in it.
  process_->host_ids.reset();
  process_->cgroup.reset();
  if (process_->owns_terminal) TakeTerminalBack();
  process_->caller_stdio.Restore();
  rusage_ = usage;
  // Killed at or after the deadline: the launcher's kill, or pid 1's (which holds the timeout
  // while the launcher is stopped).
  const std::optional<absl::Duration>& deadline = process_->deadline;
  const bool killed_late = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL &&
                           deadline.has_value() && MonotonicNow() >= *deadline;
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
    // tokenboxd reports the end of a sandbox it started on the socket it serves it on.
    pollfd pfd = {process_->service ? process_->service.get() : process_->pidfd.get(), POLLIN, 0};
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
  if (!process_) return MovedFrom();
  return WaitUntil(process_->deadline);
}

absl::StatusOr<ExitStatus> Child::WaitFor(absl::Duration timeout) {
  if (!process_) return MovedFrom();
  absl::Duration deadline = MonotonicNow() + timeout;
  if (process_->deadline.has_value() && *process_->deadline < deadline) {
    deadline = *process_->deadline;
  }
  return WaitUntil(deadline);
}

}  // namespace tokenbox
