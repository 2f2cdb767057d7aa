#include "sandbox/parent_setup.h"

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"
#include "ns/monotonic_clock.h"
#include "sandbox/delegation_handshake.h"
#include "sandbox/pid_namespace_init.h"
#include "sandbox/protocol.h"
#include "sandbox/setup_reporter.h"
#include "token/process_capabilities.h"

namespace tokenbox {
namespace {

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
  ForkThread() : thread_([this] { Serve(); }) {}
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
  std::thread thread_;  // Last: it starts serving once the members above exist.
};

// ForkHere() from the main thread, whose end is the process's end; from any other thread, on
// the fork thread, which costs a hand-over each way.
absl::StatusOr<pid_t> ForkChild(const std::function<void()>& in_child, bool as_pid1) {
  if (static_cast<pid_t>(syscall(SYS_gettid)) != getpid()) {
    return ForkThread::Get().Fork(in_child, as_pid1);
  }
  return ForkHere(in_child, as_pid1);
}

// What --verbose prints when the launcher's side of a step is done.
absl::string_view LauncherNote(SetupStep step) {
  switch (step) {
    case SetupStep::kWaitForChild: return "child unshared its namespaces";
    case SetupStep::kWriteIdMaps: return "wrote id maps";
    case SetupStep::kConfigureDelegatedBpffs: return "configured delegated bpffs";
    default: return SetupStepName(step);
  }
}

absl::string_view StartNote(StartedAs started) {
  switch (started) {
    case StartedAs::kExec: return "program started (execve succeeded)";
    case StartedAs::kFunction: return "function started";
    case StartedAs::kZygote: return "fork server ready";
  }
  return "";
}

}  // namespace

absl::StatusOr<ParentSetup::Started> ParentSetup::Start(const Sandbox& sandbox,
                                                        std::optional<absl::Duration> timeout,
                                                        CallerStdio caller_stdio,
                                                        const LaunchOptions& options,
                                                        Expect expect,
                                                        const ChildMain& child_main) {
  const absl::Duration started = MonotonicNow();
  auto note = [&](absl::string_view what) {
    if (options.verbose) PrintSetupProgress(started, "launcher", what);
  };
  if (std::string why = WhyCannotDelegate(); !why.empty()) {
    return SetupFailure(
        SetupStep::kCheckPrivileges,
        absl::PermissionDeniedError(absl::StrCat(
            why, ": the launcher needs CAP_SYS_ADMIN in the initial user namespace to configure "
                 "a delegated bpffs; run it as root (e.g. with sudo)")));
  }
  // Without a pid namespace the kernel does not end the sandbox with the launcher: its cgroup's
  // removal does, else the sweep of its leased uid, each also by a watcher if the launcher dies.
  const bool no_pid_namespace = !sandbox.namespaces().pid;
  absl::StatusOr<std::shared_ptr<const SandboxCgroup>> created = SandboxCgroup::Create(
      sandbox.namespaces().cgroup, sandbox.cgroup_limits(), /*watch_launcher=*/no_pid_namespace);
  if (!created.ok()) return SetupFailure(SetupStep::kCreateCgroup, created.status());
  std::shared_ptr<const SandboxCgroup> cgroup = *std::move(created);
  if (cgroup) note(absl::StrCat("created cgroups ", cgroup->path()));
  std::shared_ptr<const HostIdLease> host_ids;
  if (!sandbox.uid_map().has_value() || !sandbox.gid_map().has_value()) {
    const bool sweep = !sandbox.uid_map().has_value() && no_pid_namespace;
    absl::StatusOr<std::shared_ptr<const HostIdLease>> lease =
        HostIdLease::Acquire(/*sweep_on_release=*/sweep,
                             /*watch_launcher=*/sweep && (!cgroup || cgroup->dir_fd() < 0));
    if (!lease.ok()) return SetupFailure(SetupStep::kLeaseHostIds, lease.status());
    host_ids = *std::move(lease);
    note(absl::StrCat("leased host id ", host_ids->id()));
  }
  const Sandbox leased = host_ids ? sandbox.WithLeasedIds(host_ids->id()) : sandbox;
  absl::StatusOr<SocketPair> pair = MakeSocketPair();
  if (!pair.ok()) return SetupFailure(SetupStep::kCreateHandshakeSocket, pair.status());
  ChildContext context{getpid(), options.verbose, started, options.setup_timeout,
                       cgroup ? cgroup->dir_fds() : std::vector<int>()};
  // A program (not a zygote, whose launches get pid namespaces of their own) in a pid namespace:
  // the child is forked as its pid 1, and reports how the program ended through a pipe.
  const bool as_pid1 = sandbox.namespaces().pid && expect != Expect::kZygote;
  UniqueFd program_status, program_status_writer;
  if (as_pid1) {
    absl::StatusOr<Pipe> pipe = MakeProgramStatusPipe();
    if (!pipe.ok()) return SetupFailure(SetupStep::kCreateHandshakeSocket, pipe.status());
    program_status = std::move(pipe->read_end);
    context.forked_as_pid1 = true;
    program_status_writer = std::move(pipe->write_end);
    context.program_status_fd = program_status_writer.get();
  }
  // A leased id's earlier holder may have left processes behind (sandbox/host_id_lease.h); the
  // child ends them as that user, unless it is pid 1 of a new namespace, which reaches none.
  if (as_pid1 && host_ids) {
    if (absl::Status s = KillEveryProcessOf(host_ids->id()); !s.ok()) {
      return SetupFailure(SetupStep::kLeaseHostIds, s);
    }
  }
  std::fflush(nullptr);
  absl::StatusOr<pid_t> forked = ForkChild(
      [&] {
        pair->parent.Reset();
        program_status.Reset();
        child_main(leased, std::move(pair->child), context);
      },
      as_pid1);
  program_status_writer.Reset();
  if (!forked.ok()) {
    return SetupStepOf(forked.status()).has_value() ? forked.status()
                                                    : SetupFailure(SetupStep::kFork, forked.status());
  }
  const pid_t pid = *forked;
  pair->child.Reset();
  UniqueFd sock = std::move(pair->parent);
  note("forked the child");
  // The pid is ours and unreaped, so it cannot have been reused: the pidfd names our child.
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  const int pidfd_errno = errno;  // Before anything else can overwrite it.
  const bool group = !sandbox.namespaces().pid;
  // Sharing the session, the child makes its own group, and so does this, whichever is first.
  // Otherwise the child's setsid() makes it, and must come first: a group leader cannot setsid.
  const bool shares_terminal = group && sandbox.shares_session();
  if (shares_terminal) setpgid(pid, pid);
  const bool has_pidfd = pidfd.valid();
  Child child(Child::Key(), Child::Process{
      .pid = pid,
      .pidfd = std::move(pidfd),
      .kill_process_group = group,
      .deadline = timeout.has_value() ? std::optional(started + *timeout) : std::nullopt,
      .owns_terminal = shares_terminal && HandTerminalTo(pid),
      .caller_stdio = std::move(caller_stdio),
      .host_ids = host_ids,
      .cgroup = cgroup,
      .program_status = std::move(program_status),
  });
  // On failure `child` goes out of scope, which kills and reaps it.
  if (!has_pidfd) return SetupFailure(SetupStep::kOpenPidfd, ErrnoStatus(pidfd_errno, "pidfd_open"));
  if (absl::Status s = DelegateToChild(sock.get(), pid, *leased.uid_map(), *leased.gid_map(),
                                       sandbox.policy(), options.setup_timeout,
                                       [&](SetupStep step) { note(LauncherNote(step)); });
      !s.ok()) {
    return s;
  }
  const bool expect_zygote = expect == Expect::kZygote;
  if (expect == Expect::kProgramWithOwnTerminal) {
    absl::StatusOr<UniqueFd> terminal = ReceiveOwnTerminal(sock.get(), options.setup_timeout);
    if (!terminal.ok()) return terminal.status();
    child.AdoptTerminal(Child::Key(), *std::move(terminal));
  }
  absl::StatusOr<StartedAs> confirmed = AwaitStart(sock.get(), options.setup_timeout);
  if (!confirmed.ok()) return confirmed.status();
  if ((*confirmed == StartedAs::kZygote) != expect_zygote) {
    return SetupFailure(SetupStep::kWaitForStart,
                        absl::DataLossError(expect_zygote ? "the fork server did not report ready"
                                                          : "a zygote answered a plain launch"));
  }
  note(StartNote(*confirmed));
  return Started{std::move(child), std::move(sock), std::move(host_ids), std::move(cgroup)};
}

}  // namespace tokenbox
