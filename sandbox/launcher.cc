#include "sandbox/launcher.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"
#include "ns/monotonic_clock.h"
#include "ns/privilege.h"
#include "ns/user_namespace.h"
#include "sandbox/child_setup.h"
#include "sandbox/handshake.h"
#include "token/bpffs_config.h"

namespace tokenbox {
namespace {

constexpr absl::Duration kHandshakeTimeout = absl::Seconds(30);

// Gives the terminal's foreground to `pgid` when the launcher holds it, so that a sandbox in its
// own process group can still read the terminal; returns whether it did.
bool HandTerminalTo(pid_t pgid) {
  if (!isatty(STDIN_FILENO) || tcgetpgrp(STDIN_FILENO) != getpgrp()) return false;
  // tcsetpgrp from a process that is about to leave the foreground must not stop it.
  sighandler_t old = signal(SIGTTOU, SIG_IGN);
  bool handed = tcsetpgrp(STDIN_FILENO, pgid) == 0;
  signal(SIGTTOU, old);
  return handed;
}

// PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, not the process. A caller
// that launches from a short-lived thread (a pool worker, a std::thread per sandbox) would see its
// sandboxes killed as soon as that thread ends. So every fork happens on one thread that lives as
// long as the process, and the sandbox is tied to the launcher process, as intended.
class ForkThread {
 public:
  static ForkThread& Get() {
    static const bool registered = [] {
      // A process forked from this one has the object but not its thread (threads do not
      // survive fork), and maybe a mutex held by a thread that is gone: it starts afresh.
      pthread_atfork(nullptr, nullptr, [] { instance_.store(nullptr); });
      return true;
    }();
    (void)registered;
    ForkThread* instance = instance_.load();
    if (instance == nullptr) {
      ForkThread* created = new ForkThread();  // Never destroyed: the thread outlives main.
      if (instance_.compare_exchange_strong(instance, created)) {
        instance = created;
      } else {
        created->Abandon();
      }
    }
    return *instance;
  }

  // Forks on the fork thread. In the child, `in_child` runs and must not return.
  pid_t Fork(const std::function<void()>& in_child) {
    std::unique_lock<std::mutex> lock(mutex_);
    idle_.wait(lock, [&] { return job_ == nullptr; });
    job_ = &in_child;
    done_ = false;
    wake_.notify_all();
    finished_.wait(lock, [&] { return done_; });
    pid_t pid = pid_;
    errno = fork_errno_;
    job_ = nullptr;
    idle_.notify_one();
    return pid;
  }

 private:
  ForkThread() : thread_([this] { Serve(); }) {}
  // A losing racer in Get(): its thread stays parked forever, which costs one idle thread once.
  void Abandon() { thread_.detach(); }

  void Serve() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return job_ != nullptr && !done_; });
      pid_t pid = fork();
      if (pid == 0) {
        (*job_)();
        _exit(kSetupFailedExitCode);  // Not reached: the child execs or exits.
      }
      pid_ = pid;
      fork_errno_ = errno;
      done_ = true;
      finished_.notify_all();
    }
  }

  static inline std::atomic<ForkThread*> instance_{nullptr};
  std::mutex mutex_;
  std::condition_variable wake_, finished_, idle_;
  const std::function<void()>* job_ = nullptr;
  bool done_ = false;
  pid_t pid_ = -1;
  int fork_errno_ = 0;
  std::thread thread_;  // Last: it starts serving once the members above exist.
};

void TakeTerminalBack() {
  sighandler_t old = signal(SIGTTOU, SIG_IGN);
  (void)tcsetpgrp(STDIN_FILENO, getpgrp());
  signal(SIGTTOU, old);
}

}  // namespace

// Drives the launcher's side of the handshake for one launch.
class Launcher {
 public:
  Launcher(const SandboxSpec& spec, const LaunchOptions& options, bool zygote = false)
      : spec_(spec), options_(options), started_(MonotonicNow()), zygote_(zygote) {}

  absl::StatusOr<Child> Run();
  // After a successful Run() of a zygote: the socket it serves launches on.
  UniqueFd TakeSocket() { return std::move(sock_); }

 private:
  void Note(absl::string_view step) {
    if (options_.verbose) {
      std::fprintf(stderr, "tokenbox: %8.3f ms  launcher: %.*s\n",
                   absl::ToDoubleMilliseconds(MonotonicNow() - started_),
                   static_cast<int>(step.size()), step.data());
    }
  }

  // Receives the next message; a set-up failure report from the child becomes its error.
  absl::StatusOr<FdMessage> Receive(uint32_t expected_type);
  absl::Status Handshake(pid_t pid);
  // Kills and reaps the child after a failed launch, and returns `failure`.
  absl::Status Abandon(Child& child, absl::Status failure);

  const SandboxSpec& spec_;
  const LaunchOptions& options_;
  const absl::Duration started_;  // MonotonicNow() when the launch began.
  const bool zygote_;
  UniqueFd sock_;
};

absl::StatusOr<FdMessage> Launcher::Receive(uint32_t expected_type) {
  absl::StatusOr<FdMessage> message = ReceiveFdMessage(sock_.get(), kHandshakeTimeout);
  if (!message.ok()) return message.status();
  if (message->type == kSetupFailed) return DecodeSetupFailure(message->payload);
  if (message->type != expected_type) {
    return absl::DataLossError(absl::StrCat("expected message ", expected_type, " from the child, got ",
                                            message->type));
  }
  return message;
}

absl::Status Launcher::Handshake(pid_t pid) {
  if (absl::StatusOr<FdMessage> m = Receive(kChildUnshared); !m.ok()) {
    return SetupStepOf(m.status()).empty() ? SetupFailure("wait for the child", m.status())
                                           : m.status();
  }
  Note("child unshared its namespaces");
  if (absl::Status s = WriteIdMaps(pid, spec_.uid_map(), spec_.gid_map()); !s.ok()) {
    return SetupFailure("write id maps", s);
  }
  if (absl::Status s = SendFdMessage(sock_.get(), kIdMapsWritten); !s.ok()) {
    return SetupFailure("write id maps", s);
  }
  Note("wrote id maps");
  absl::StatusOr<FdMessage> request = Receive(kBpffsContextMessage);
  if (!request.ok()) {
    return SetupStepOf(request.status()).empty()
               ? SetupFailure("wait for the child's bpffs context", request.status())
               : request.status();
  }
  if (request->fds.size() != 1) {
    return SetupFailure("wait for the child's bpffs context",
                        absl::DataLossError(absl::StrCat("the request carried ",
                                                         request->fds.size(), " fds, not 1")));
  }
  if (absl::Status s = AnswerBpffsRequest(sock_.get(), request->fds[0].get(), spec_.policy());
      !s.ok()) {
    return SetupFailure("configure delegated bpffs", s);
  }
  Note("configured delegated bpffs");
  absl::StatusOr<StartedAs> started = AwaitStart(sock_.get(), kHandshakeTimeout);
  if (!started.ok()) return started.status();
  if ((*started == StartedAs::kZygote) != zygote_) {
    return SetupFailure("wait for the program to start",
                        absl::DataLossError(zygote_ ? "the fork server did not report ready"
                                                    : "a zygote answered a plain launch"));
  }
  Note(*started == StartedAs::kExec       ? "program started (execve succeeded)"
       : *started == StartedAs::kFunction ? "function started"
                                          : "fork server ready");
  return absl::OkStatus();
}

absl::Status Launcher::Abandon(Child& child, absl::Status failure) {
  (void)child.Kill();
  (void)child.Reap(/*timed_out=*/false);
  return failure;
}

absl::StatusOr<Child> Launcher::Run() {
  if (std::string why = WhyCannotDelegate(); !why.empty()) {
    return SetupFailure(
        "check privileges",
        absl::PermissionDeniedError(absl::StrCat(
            why, ": the launcher needs CAP_SYS_ADMIN in the initial user namespace to configure "
                 "a delegated bpffs; run it as root (e.g. with sudo)")));
  }
  absl::StatusOr<SocketPair> pair = MakeSocketPair();
  if (!pair.ok()) return SetupFailure("create handshake socket", pair.status());
  const pid_t launcher_pid = getpid();
  std::fflush(nullptr);
  const ChildContext context{launcher_pid, options_.verbose, started_, zygote_};
  pid_t pid = ForkThread::Get().Fork([&] {
    pair->parent.Reset();
    RunSandboxChild(spec_, context, std::move(pair->child));
  });
  if (pid < 0) return SetupFailure("fork", ErrnoStatus(errno, "fork"));
  pair->child.Reset();
  sock_ = std::move(pair->parent);
  Note("forked the child");
  // The pid is ours and unreaped, so it cannot have been reused: the pidfd names our child.
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  const int pidfd_errno = errno;  // Before anything else can overwrite it.
  const bool group = !spec_.namespaces().pid;
  if (group) setpgid(pid, pid);  // Also done by the child; whichever runs first wins the race.
  std::optional<absl::Duration> deadline;
  if (spec_.timeout().has_value()) deadline = started_ + *spec_.timeout();
  Child child(pid, std::move(pidfd), group, deadline, group && HandTerminalTo(pid));
  if (!child.pidfd_) {
    return Abandon(child, SetupFailure("open pidfd", ErrnoStatus(pidfd_errno, "pidfd_open")));
  }
  if (absl::Status s = Handshake(pid); !s.ok()) return Abandon(child, s);
  return child;
}

Child::Child(pid_t pid, UniqueFd pidfd, bool kill_process_group,
             std::optional<absl::Duration> deadline, bool owns_terminal)
    : pid_(pid),
      pidfd_(std::move(pidfd)),
      kill_process_group_(kill_process_group),
      deadline_(deadline),
      owns_terminal_(owns_terminal) {}

Child::Child(Child&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::move(other.pidfd_)),
      kill_process_group_(other.kill_process_group_),
      deadline_(other.deadline_),
      owns_terminal_(std::exchange(other.owns_terminal_, false)),
      exit_status_(std::move(other.exit_status_)),
      rusage_(std::move(other.rusage_)) {}

Child::~Child() {
  if (pid_ > 0 && !exit_status_.has_value()) {
    (void)Kill();
    (void)Reap(/*timed_out=*/false);
  }
}

absl::Status Child::Kill() {
  if (pid_ <= 0 || exit_status_.has_value()) return absl::OkStatus();
  // The group first, while its leader is surely unreaped and the group id cannot be reused.
  if (kill_process_group_) (void)kill(-pid_, SIGKILL);
  if (pidfd_ && syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0) != 0 &&
      errno != ESRCH) {
    return ErrnoStatus(errno, "pidfd_send_signal(SIGKILL)");
  }
  return absl::OkStatus();
}

absl::StatusOr<ExitStatus> Child::Reap(bool timed_out) {
  if (exit_status_.has_value()) return *exit_status_;
  if (pid_ <= 0) return absl::FailedPreconditionError("this Child was moved from");
  int status = 0;
  rusage usage = {};
  pid_t done;
  do {
    done = wait4(pid_, &status, 0, &usage);
  } while (done < 0 && errno == EINTR);
  if (done < 0) return ErrnoStatus(errno, absl::StrCat("wait4(", pid_, ")"));
  if (kill_process_group_) (void)kill(-pid_, SIGKILL);  // Whatever the program left behind.
  if (owns_terminal_) TakeTerminalBack();
  rusage_ = usage;
  exit_status_ = timed_out            ? ExitStatus::TimedOut()
                 : WIFSIGNALED(status) ? ExitStatus::Signaled(WTERMSIG(status))
                                       : ExitStatus::Exited(WEXITSTATUS(status));
  return *exit_status_;
}

absl::StatusOr<ExitStatus> Child::WaitUntil(std::optional<absl::Duration> deadline) {
  if (exit_status_.has_value()) return *exit_status_;
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
    if (ready > 0) return Reap(/*timed_out=*/false);
    if (ready < 0 && errno != EINTR) return ErrnoStatus(errno, "poll(pidfd)");
    if (ready == 0 && deadline_passed) {
      if (absl::Status s = Kill(); !s.ok()) return s;
      return Reap(/*timed_out=*/true);
    }
  }
}

absl::StatusOr<ExitStatus> Child::Wait() { return WaitUntil(deadline_); }

absl::StatusOr<ExitStatus> Child::WaitFor(absl::Duration timeout) {
  absl::Duration deadline = MonotonicNow() + timeout;
  if (deadline_.has_value() && *deadline_ < deadline) deadline = *deadline_;
  return WaitUntil(deadline);
}

absl::StatusOr<Child> Launch(const SandboxSpec& spec, const LaunchOptions& options) {
  return Launcher(spec, options).Run();
}

absl::StatusOr<ZygoteHandle> LaunchZygote(const SandboxSpec& spec, const LaunchOptions& options) {
  Launcher launcher(spec, options, /*zygote=*/true);
  absl::StatusOr<Child> zygote = launcher.Run();
  if (!zygote.ok()) return zygote.status();
  return ZygoteHandle{*std::move(zygote), launcher.TakeSocket()};
}

}  // namespace tokenbox
