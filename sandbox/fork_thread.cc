#include "sandbox/fork_thread.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>

#include "ns/errno_status.h"
#include "ns/start_thread.h"
#include "ns/unique_fd.h"
#include "sandbox/child/signals.h"
#include "sandbox/protocol.h"
#include "sandbox/setup_step.h"

namespace tokenbox {
namespace {

// Forks the child that runs `in_child` (which must not return); with `as_pid1`, as pid 1 of a new
// pid namespace. unshare(CLONE_NEWPID) sets the namespace of the calling thread's next children
// only, and setns() gives the thread its own back at once. The signals pid 1 relays stay blocked
// across the fork, so that none sent to pid 1 before it can relay is lost.
absl::StatusOr<pid_t> ForkHere(const std::function<void()>& in_child, bool as_pid1) {
  UniqueFd own_pid_namespace;
  sigset_t previous;
  if (as_pid1) {
    own_pid_namespace = UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0)));
    if (!own_pid_namespace) {
      return ErrnoStatus(errno, "pidfd_open(self)",
                         "needs Linux >= 5.3; or the launcher is at its fd limit (RLIMIT_NOFILE)");
    }
    if (unshare(CLONE_NEWPID) != 0) {
      return SetupFailure(
          SetupStep::kCreatePidNamespace,
          ErrnoStatus(errno, "unshare(CLONE_NEWPID)",
                      "check /proc/sys/user/max_pid_namespaces, or run without a pid namespace "
                      "(--no-unshare-pid)"));
    }
    previous = BlockRelayedSignals();
  }
  const pid_t pid = fork();
  if (pid == 0) {
    in_child();
    _exit(kSetupFailedExitCode);  // Not reached: the child execs or exits.
  }
  const int fork_errno = errno;
  if (as_pid1) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    if (setns(own_pid_namespace.get(), CLONE_NEWPID) != 0) {
      const int setns_errno = errno;
      if (pid > 0) {
        kill(pid, SIGKILL);
        while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
      }
      return ErrnoStatus(setns_errno, "setns(self, CLONE_NEWPID)",
                         "the launching thread cannot return to its own pid namespace; report "
                         "this as a tokenbox bug");
    }
  }
  if (pid < 0) return ErrnoStatus(fork_errno, "fork");
  return pid;
}

// The thread that forks for callers other than the main thread (fork_thread.h says why).
class ForkThread {
 public:
  // The process's fork thread, started by the first caller; an error when no thread can be
  // made (the next caller tries again).
  static absl::StatusOr<ForkThread*> Get() {
    static const bool registered = [] {
      // A process forked from this one has the object but not its thread (threads do not
      // survive fork), and maybe a mutex held by a thread that is gone: it starts afresh.
      pthread_atfork(nullptr, nullptr, [] { instance_.store(nullptr); });
      return true;
    }();
    (void)registered;
    ForkThread* instance = instance_.load();
    if (instance == nullptr) {
      auto* created = new ForkThread();  // Never destroyed: the thread outlives main.
      absl::StatusOr<std::thread> serving = StartThread([created] { created->Serve(); });
      if (!serving.ok()) {
        delete created;
        return serving.status();
      }
      created->thread_ = *std::move(serving);
      if (instance_.compare_exchange_strong(instance, created)) {
        instance = created;
      } else {
        created->Abandon();
      }
    }
    return instance;
  }

  // ForkHere() on the fork thread.
  absl::StatusOr<pid_t> Fork(const std::function<void()>& in_child, bool as_pid1) {
    std::unique_lock<std::mutex> lock(mutex_);
    idle_.wait(lock, [&] { return job_ == nullptr; });
    job_ = &in_child;
    as_pid1_ = as_pid1;
    done_ = false;
    wake_.notify_all();
    finished_.wait(lock, [&] { return done_; });
    absl::StatusOr<pid_t> pid = std::move(result_);
    job_ = nullptr;
    idle_.notify_one();
    return pid;
  }

 private:
  ForkThread() = default;
  // A losing racer in Get(): its thread stays parked forever, which costs one idle thread once.
  void Abandon() { thread_.detach(); }

  void Serve() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return job_ != nullptr && !done_; });
      result_ = ForkHere(*job_, as_pid1_);
      done_ = true;
      finished_.notify_all();
    }
  }

  static inline std::atomic<ForkThread*> instance_{nullptr};
  std::mutex mutex_;
  std::condition_variable wake_, finished_, idle_;
  const std::function<void()>* job_ = nullptr;
  bool as_pid1_ = false;
  bool done_ = false;
  absl::StatusOr<pid_t> result_;
  std::thread thread_;  // Started once the members above exist.
};

}  // namespace

absl::StatusOr<pid_t> ForkChild(const std::function<void()>& in_child, bool as_pid1) {
  if (static_cast<pid_t>(syscall(SYS_gettid)) != getpid()) {
    absl::StatusOr<ForkThread*> thread = ForkThread::Get();
    if (!thread.ok()) return thread.status();
    return (*thread)->Fork(in_child, as_pid1);
  }
  return ForkHere(in_child, as_pid1);
}


}  // namespace tokenbox
