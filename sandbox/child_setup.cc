#include "sandbox/child_setup.h"

#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"
#include "ns/mount_api.h"
#include "ns/mount_namespace.h"
#include "sandbox/delegation_handshake.h"
#include "sandbox/exec_program.h"
#include "sandbox/fd_layout.h"
#include "sandbox/bind_source.h"
#include "sandbox/filesystem_view.h"
#include "sandbox/inside.h"
#include "sandbox/parent_death.h"
#include "sandbox/pid_namespace_init.h"
#include "sandbox/protocol.h"
#include "sandbox/sandbox_cgroup.h"
#include "token/process_capabilities.h"
#include "token/token.h"

namespace tokenbox {
namespace {

absl::Status ErrnoUnless(bool ok, absl::string_view call, absl::string_view remedy = {}) {
  return ok ? absl::OkStatus() : ErrnoStatus(errno, call, remedy);
}

// Dispositions and the mask survive execve; the launcher's (a test runner's SIGPIPE ignore, say)
// are not the program's. pid 1 keeps the signals it relays blocked until it can relay them.
absl::Status ResetSignals(bool is_pid1) {
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
  }
  sigset_t mask;
  if (is_pid1) {
    mask = RelayedSignals();
  } else {
    sigemptyset(&mask);
  }
  return ErrnoUnless(sigprocmask(SIG_SETMASK, &mask, nullptr) == 0, "sigprocmask");
}

// pid 1 of a pid namespace the launcher made is still root on the host, whose user namespace
// owns that pid namespace; so it mounts the namespace's proc now, in a mount namespace of its
// own, since nothing in the sandbox's user namespace could later. The filesystem view keeps it.
absl::Status MountOwnProc() {
  if (unshare(CLONE_NEWNS) != 0) {
    return ErrnoStatus(errno, "unshare(CLONE_NEWNS)", "check /proc/sys/user/max_mnt_namespaces");
  }
  if (absl::Status s = MakeMountsPrivate(); !s.ok()) return s;
  return MountProc({"/proc"});
}

int ExtraCloneFlags(const NewNamespaces& ns) {
  // CLONE_NEWPID comes later: it applies to children, and needs the new user namespace first.
  return (ns.net ? CLONE_NEWNET : 0) | (ns.ipc ? CLONE_NEWIPC : 0) | (ns.uts ? CLONE_NEWUTS : 0) |
         (ns.cgroup ? CLONE_NEWCGROUP : 0);
}

absl::Status AttachBpffs(const UniqueFd& mount, const Sandbox& sandbox) {
  const std::string& path = *sandbox.bpffs_path();
  absl::Status attached = AttachMount(mount.get(), path);
  if (!attached.ok() && ErrnoOf(attached) == ENOENT) {
    return AppendRemedy(attached, absl::StrCat("the bpffs path ", Printable(path, 256),
                                               " must exist (as a directory) inside the sandbox"));
  }
  if (!attached.ok() && (ErrnoOf(attached) == EACCES || ErrnoOf(attached) == EPERM)) {
    return AppendRemedy(attached, absl::StrCat(
        "the sandbox's user (host uid ", sandbox.host_uid(),
        ") must be able to reach the bpffs path, and a security module may refuse mounts in "
        "user namespaces; choose another --bpffs, or --no-bpffs"));
  }
  return attached;
}

// The host's devpts is one pool of pseudo-terminals for the whole machine: a sandbox could take
// every one of them, and root's openpty() would then fail. A new instance at /dev/pts is the
// sandbox's own (/dev/ptmx opens the pts next to it), bounded by `max`, and the kernel keeps
// kernel.pty.reserve terminals that only the host's instance may use.
constexpr int kMaxPseudoTerminals = 64;

absl::Status MountOwnDevpts() {
  struct stat st;
  if (stat("/dev/pts", &st) != 0 || !S_ISDIR(st.st_mode)) return absl::OkStatus();
  const std::string options =
      absl::StrCat("newinstance,ptmxmode=0666,mode=0620,max=", kMaxPseudoTerminals);
  return ErrnoUnless(mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                           options.c_str()) == 0,
                     "mount(devpts, /dev/pts, newinstance)",
                     "a security module may refuse mounts in user namespaces");
}

// A pseudo-terminal of the sandbox's devpts instance (OwnTerminal()): its primary end, for the
// launcher, and its secondary, for the program.
struct OwnTerminal {
  UniqueFd primary;
  UniqueFd secondary;
};

absl::StatusOr<OwnTerminal> OpenOwnTerminal(const winsize& size) {
  constexpr absl::string_view kRemedy =
      "the sandbox's devpts allows 64 terminals; run without --pty (OwnTerminal())";
  UniqueFd primary(open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!primary) return ErrnoStatus(errno, "open(/dev/pts/ptmx)", kRemedy);
  int unlock = 0;
  if (ioctl(primary.get(), TIOCSPTLCK, &unlock) != 0) {
    return ErrnoStatus(errno, "ioctl(TIOCSPTLCK)", kRemedy);
  }
  if (ioctl(primary.get(), TIOCSWINSZ, &size) != 0) {
    return ErrnoStatus(errno, "ioctl(TIOCSWINSZ)", kRemedy);
  }
  // The peer of this primary, whatever /dev/pts now holds: no lookup by name.
  UniqueFd secondary(ioctl(primary.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!secondary) return ErrnoStatus(errno, "ioctl(TIOCGPTPEER)", kRemedy);
  return OwnTerminal{std::move(primary), std::move(secondary)};
}

absl::Status BringUpLoopback() {
  UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return ErrnoStatus(errno, "socket(AF_INET)");
  ifreq request = {};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(sock.get(), SIOCGIFFLAGS, &request) != 0) return ErrnoStatus(errno, "SIOCGIFFLAGS(lo)");
  request.ifr_flags |= IFF_UP | IFF_RUNNING;
  return ErrnoUnless(ioctl(sock.get(), SIOCSIFFLAGS, &request) == 0, "SIOCSIFFLAGS(lo, up)");
}

absl::Status SetResourceLimits(const std::vector<ResourceLimit>& limits) {
  for (const ResourceLimit& limit : limits) {
    rlimit value = {limit.soft, limit.hard};
    if (setrlimit(limit.resource, &value) != 0) {
      return ErrnoStatus(errno, absl::StrCat("setrlimit(", limit.resource, ", ", limit.soft, ", ",
                                             limit.hard, ")"),
                         "a hard limit can only be lowered");
    }
  }
  return absl::OkStatus();
}

// The inherited working directory is an open reference, which could reach what the sandbox's
// user may not (a 0700 directory of root's); so the program's is always entered by path, with
// the sandbox's own credentials. The launcher's falls back to / when it cannot be entered; a
// directory the command names must be entered.
absl::Status EnterWorkingDirectory(const Command& command, uint32_t host_uid) {
  if (command.working_directory().has_value()) {
    const std::string& dir = *command.working_directory();
    return ErrnoUnless(chdir(dir.c_str()) == 0, absl::StrCat("chdir(", Printable(dir, 256), ")"),
                       absl::StrCat("the directory must exist inside the sandbox and be "
                                    "searchable by host uid ", host_uid));
  }
  if (chdir(command.launcher_directory().c_str()) == 0) return absl::OkStatus();
  return ErrnoUnless(chdir("/") == 0, "chdir(/)", "the sandbox's / must be searchable");
}

// Makes the terminal on fd 0 the controlling terminal of a session the program leads. The
// child's own new session (or, forked by a fork server, its launch's) is led by a process that
// is not the program when there is a pid namespace, so the program makes its own.
absl::Status TakeControllingTerminal() {
  if (getsid(0) != getpid() && setsid() < 0) {
    return ErrnoStatus(errno, "setsid",
                       "a terminal of its own needs a session of its own: do not share "
                       "tokenbox's session (--share-session) without a pid namespace");
  }
  return ErrnoUnless(ioctl(STDIN_FILENO, TIOCSCTTY, 0) == 0, "ioctl(0, TIOCSCTTY)",
                     "the terminal must not be another session's controlling terminal");
}

// What to do about the kernel's refusal of a seccomp filter, by its errno.
absl::string_view SeccompRemedy(int err) {
  switch (err) {
    case EINVAL:
      return "not a valid classic BPF program for this kernel; compile it with libseccomp's "
             "seccomp_export_bpf()";
    case ENOMEM:
      return "the filter is too long (the kernel takes at most 4096 instructions across the "
             "filters of a process)";
    case EACCES:
      return "the kernel wants no_new_privs or CAP_SYS_ADMIN first; report this as a tokenbox "
             "bug";
    default:
      return "the kernel refused the filter; check it against libseccomp's seccomp_export_bpf() "
             "output";
  }
}

// The environment the program starts with: the command's, and where to find the token.
std::vector<std::string> ProgramEnvironment(const Sandbox& sandbox, const Command& command,
                                            int token_fd) {
  std::vector<std::string> environment;
  for (const std::string& entry : command.environment()) {
    if (absl::StartsWith(entry, absl::StrCat(kTokenFdEnv, "=")) ||
        absl::StartsWith(entry, absl::StrCat(kLibbpfTokenPathEnv, "="))) {
      continue;  // Stale values from an outer sandbox must not leak in.
    }
    environment.push_back(entry);
  }
  environment.push_back(absl::StrCat(kTokenFdEnv, "=", token_fd));
  if (sandbox.bpffs_path().has_value()) {
    environment.push_back(absl::StrCat(kLibbpfTokenPathEnv, "=", *sandbox.bpffs_path()));
  }
  return environment;
}

// One child's way from a copy of the launcher to the sandboxed program.
class ChildSetup {
 public:
  ChildSetup(const Sandbox& sandbox, const ChildContext& context, UniqueFd sock)
      : sandbox_(sandbox),
        context_(context),
        reporter_(std::move(sock), context.verbose, context.started) {}

  // Namespaces, id maps, filesystem view, delegated bpffs, token, loopback and hostname.
  UniqueFd PrepareSandbox();
  // Resource limits, the pid namespace, fds, environment, working directory, capabilities,
  // and then the program or the function. A child forked by the zygote first takes a process
  // group, and a mount namespace for its own /proc, of its own.
  [[noreturn]] void RunCommand(const Command& command, const std::function<int()>& function,
                               UniqueFd token, bool forked_by_zygote);
  // The steps of RunCommand() in the process that becomes the program, from its fds on; it must
  // not return, as it may run in memory borrowed from pid 1 (RunAsInit()).
  [[noreturn]] void StartCommand(const Command& command, const std::function<int()>& function,
                                 UniqueFd& token, const UniqueFd& own_terminal,
                                 std::optional<pid_t> parent);
  SetupReporter& reporter() { return reporter_; }

 private:
  // A new session, without the launcher's controlling terminal, so that the program cannot
  // push input into it (TIOCSTI) or take its foreground; it also makes the child a process
  // group leader. Sharing the session, the child still leads a group of its own when it has no
  // pid namespace (or `always_own_group`), so that a timeout or Kill() reaches all it starts.
  void LeaveLaunchersSession(bool always_own_group) {
    constexpr absl::string_view kRemedy =
        "the child already leads a process group or session, or a security module forbids "
        "it; report this as a tokenbox bug if neither";
    if (!sandbox_.shares_session()) {
      reporter_.Step(SetupStep::kNewSession, ErrnoUnless(setsid() >= 0, "setsid", kRemedy));
    } else if (always_own_group || !sandbox_.namespaces().pid) {
      reporter_.Step(SetupStep::kNewProcessGroup,
                     ErrnoUnless(setpgid(0, 0) == 0, "setpgid(0, 0)", kRemedy));
    }
  }

  const Sandbox& sandbox_;
  const ChildContext& context_;
  SetupReporter reporter_;
};

UniqueFd ChildSetup::PrepareSandbox() {
  reporter_.Step(SetupStep::kResetSignals, ResetSignals(context_.forked_as_pid1));
  // A zygote's own session is what its launches leave for theirs.
  LeaveLaunchersSession(/*always_own_group=*/false);
  if (!context_.cgroup_fds.empty()) {
    // Before the cgroup namespace exists: its root is the cgroup the child is in then.
    absl::Status entered = EnterCgroups(context_.cgroup_fds);
    for (int fd : context_.cgroup_fds) close(fd);
    reporter_.Step(SetupStep::kEnterCgroup, entered);
  }
  // As the launcher's copy, in the host's namespaces: what it binds is what the launcher names.
  absl::StatusOr<std::vector<UniqueFd>> bind_sources = OpenBindSources(sandbox_.filesystem());
  reporter_.Step(SetupStep::kOpenBindSources, bind_sources.status());
  if (context_.forked_as_pid1) reporter_.Step(SetupStep::kMountProc, MountOwnProc());
  absl::Status entered = EnterDelegatedNamespaces(
      reporter_.sock(), sandbox_.host_uid(), *sandbox_.gid_map()->ToOutside(0),
      ExtraCloneFlags(sandbox_.namespaces()), context_.setup_timeout,
      [this](SetupStep step) { reporter_.Done(step); });
  if (!entered.ok()) reporter_.Fail(SetupStep::kCreateNamespaces, entered);
  std::vector<std::string> mount_points;
  if (sandbox_.bpffs_path().has_value()) mount_points.push_back(*sandbox_.bpffs_path());
  if (sandbox_.namespaces().pid) {
    for (std::string& path : ProcMountPoints(sandbox_.filesystem())) {
      mount_points.push_back(std::move(path));
    }
  }
  reporter_.Step(SetupStep::kArrangeFilesystemView,
                 ApplyFilesystemView(sandbox_.filesystem(), *std::move(bind_sources), mount_points,
                                     context_.forked_as_pid1));
  reporter_.Step(SetupStep::kMountDevpts, MountOwnDevpts());
  if (sandbox_.namespaces().cgroup) reporter_.Step(SetupStep::kMountCgroupView, MountCgroupView());
  const SetupStep bpffs_step = sandbox_.bpffs_path().has_value() ? SetupStep::kMountDelegatedBpffs
                                                                 : SetupStep::kCreateDelegatedBpffs;
  absl::StatusOr<UniqueFd> bpffs = ReceiveDelegatedBpffs(reporter_.sock(), context_.setup_timeout);
  if (bpffs.ok() && sandbox_.bpffs_path().has_value()) {
    if (absl::Status s = AttachBpffs(*bpffs, sandbox_); !s.ok()) bpffs = s;
  }
  reporter_.Step(bpffs_step, bpffs.status());
  absl::StatusOr<UniqueFd> token = CreateToken(bpffs->get());
  reporter_.Step(SetupStep::kCreateToken, token.status());
  if (sandbox_.namespaces().net) reporter_.Step(SetupStep::kBringUpLoopback, BringUpLoopback());
  if (sandbox_.namespaces().uts) {
    reporter_.Step(SetupStep::kSetHostname,
                   ErrnoUnless(sethostname("tokenbox", 8) == 0, "sethostname"));
  }
  return *std::move(token);
}

void ChildSetup::RunCommand(const Command& command, const std::function<int()>& function,
                            UniqueFd token, bool forked_by_zygote) {
  if (forked_by_zygote) LeaveLaunchersSession(/*always_own_group=*/true);
  reporter_.Step(SetupStep::kSetResourceLimits, SetResourceLimits(command.resource_limits()));
  if (!sandbox_.shares_session_keyring()) {
    // Inherited, the launcher's session keyring is the program's to read and to link keys into.
    reporter_.Step(SetupStep::kJoinSessionKeyring,
                   ErrnoUnless(syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, nullptr) >= 0,
                               "keyctl(KEYCTL_JOIN_SESSION_KEYRING)",
                               absl::StrCat("host uid ", sandbox_.host_uid(), " may be out of its "
                                            "key quota (/proc/sys/kernel/keys/maxkeys)")));
  }
  UniqueFd own_terminal;
  if (command.own_terminal().has_value()) {
    absl::StatusOr<OwnTerminal> opened = OpenOwnTerminal(*command.own_terminal());
    if (opened.ok()) {
      const int primary = opened->primary.get();
      absl::Status sent = SendFdMessage(reporter_.sock(), kOwnTerminal, "", {&primary, 1});
      if (!sent.ok()) opened = sent;
    }
    reporter_.Step(SetupStep::kOpenOwnTerminal, opened.status());
    own_terminal = std::move(opened->secondary);
  }
  if (sandbox_.namespaces().pid) {
    if (forked_by_zygote) {
      // The zygote cloned it as pid 1 of a pid namespace of its own, so that siblings and the
      // zygote cannot be signalled, traced or read through /proc by one another, and everything
      // a program forks dies with it. Its /proc needs a mount namespace of its own too: the
      // zygote's is shared.
      reporter_.Step(SetupStep::kCreateMountNamespace,
                     ErrnoUnless(unshare(CLONE_NEWNS) == 0, "unshare(CLONE_NEWNS)",
                                 "check /proc/sys/user/max_mnt_namespaces, or start the fork "
                                 "server without a pid namespace"));
      if (!sandbox_.program_is_pid1()) {
        reporter_.Step(SetupStep::kMountProc, MountProc(ProcMountPoints(sandbox_.filesystem())));
      }
    }
    // Its parent, the launcher, is outside its pid namespace.
    reporter_.Step(SetupStep::kSetParentDeathSignal,
                   SetParentDeathSignalWatching(reporter_.sock()));
    const std::optional<absl::Duration> deadline =
        command.timeout().has_value() ? std::optional(context_.started + *command.timeout())
                                      : std::nullopt;
    std::vector<int> program_fds = {reporter_.sock(), token.get()};
    if (own_terminal) program_fds.push_back(own_terminal.get());
    RunAsInit(reporter_, ProcMountPoints(sandbox_.filesystem()), sandbox_.program_is_pid1(),
              !sandbox_.shares_session(), deadline, program_fds, context_.program_status_fd,
              command.kind() == Command::Kind::kProgram, [&](std::optional<pid_t> parent) {
                StartCommand(command, function, token, own_terminal, parent);
              });
  }
  StartCommand(command, function, token, own_terminal, context_.launcher_pid);
}

void ChildSetup::StartCommand(const Command& command, const std::function<int()>& function,
                              UniqueFd& token, const UniqueFd& own_terminal,
                              std::optional<pid_t> parent) {
  std::vector<int> sources;
  std::vector<int> targets;
  for (const PassedFd& passed : command.passed_fds()) {
    sources.push_back(passed.fd->get());
    targets.push_back(passed.target);
  }
  if (own_terminal) {
    for (int target : {0, 1, 2}) {
      sources.push_back(own_terminal.get());
      targets.push_back(target);
    }
  }
  reporter_.Step(SetupStep::kArrangeFds, ApplyFdLayout(PlanFdLayout(targets), token, sources));
  if (command.controlling_terminal()) {
    reporter_.Step(SetupStep::kTakeControllingTerminal, TakeControllingTerminal());
  }
  std::vector<std::string> environment = ProgramEnvironment(sandbox_, command, token.get());
  reporter_.Step(SetupStep::kChangeDirectory, EnterWorkingDirectory(command, sandbox_.host_uid()));
  reporter_.Step(SetupStep::kDropCapabilities,
                 LockCapabilitiesForExec(sandbox_.kept_capabilities()));
  reporter_.Step(SetupStep::kSetParentDeathSignal, SetParentDeathSignal(parent));
  if (context_.await_launch_cgroup) {
    // Last, so that the launcher's move overlaps the steps above; before anything that forks.
    reporter_.Step(SetupStep::kWaitForLaunchCgroup,
                   ReceiveExpected(reporter_.sock(), kMovedToLaunchCgroup, 0,
                                   context_.setup_timeout)
                       .status());
  }

  if (!sandbox_.seccomp_filter().empty()) {
    // Last: no step above runs under it. No new privileges is set (LockCapabilitiesForExec()),
    // so the kernel lets a process without CAP_SYS_ADMIN install it.
    sock_fprog program = {static_cast<unsigned short>(sandbox_.seccomp_filter().size()),
                          const_cast<sock_filter*>(sandbox_.seccomp_filter().data())};
    const bool installed = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
    const int install_errno = errno;
    reporter_.Step(SetupStep::kInstallSeccompFilter,
                   ErrnoUnless(installed, "prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER)",
                               SeccompRemedy(install_errno)));
  }

  if (command.kind() == Command::Kind::kProgram) {
    reporter_.Fail(SetupStep::kExec,
                   ExecProgram(command.argv(), environment, sandbox_.host_uid()));
  }
  // There is no execve to close what ApplyFdLayout() marked close-on-exec: close it here, so
  // that the function sees the fds a program would, and nothing of the launcher's.
  std::vector<int> keep = {reporter_.sock(), token.get()};
  keep.insert(keep.end(), targets.begin(), targets.end());
  reporter_.Step(SetupStep::kCloseFdsNotPassed, CloseFdsExcept(keep));
  clearenv();
  for (std::string& entry : environment) putenv(entry.data());
  (void)SendFdMessage(reporter_.sock(), kFunctionStarted);
  reporter_.CloseSocket();
  std::fflush(nullptr);
  int code = function();
  std::fflush(nullptr);
  _exit(code);
}

}  // namespace

void RunSandboxChild(const Sandbox& sandbox, const Command& command, const ChildContext& context,
                     UniqueFd sock) {
  // The launcher may be a multi-threaded program; after fork only this thread exists. glibc
  // keeps malloc usable, which the steps rely on, and they take no other lock a thread of the
  // launcher could have held (timings use MonotonicNow(), not absl::Now()). GCC 12's
  // AddressSanitizer allocator is not fork-safe: see "Known limits" in docs/SECURITY.md.
  if (!context.forked_as_pid1 && getppid() != context.launcher_pid) _exit(kSetupFailedExitCode);
  ChildSetup setup(sandbox, context, std::move(sock));
  UniqueFd token = setup.PrepareSandbox();
  setup.RunCommand(command, command.function(), std::move(token), /*forked_by_zygote=*/false);
}

void RunPreparedSandbox(const Sandbox& sandbox, const ChildContext& context, UniqueFd sock,
                        const std::function<void(SetupReporter&, UniqueFd token)>& serve) {
  if (getppid() != context.launcher_pid) _exit(kSetupFailedExitCode);
  ChildSetup setup(sandbox, context, std::move(sock));
  UniqueFd token = setup.PrepareSandbox();
  serve(setup.reporter(), std::move(token));
  _exit(kSetupFailedExitCode);  // Not reached: `serve` does not return.
}

void RunForkedCommand(const Sandbox& sandbox, const Command& command,
                      const std::function<int()>& server_function, const ChildContext& context,
                      UniqueFd report_sock, UniqueFd token) {
  ChildSetup setup(sandbox, context, std::move(report_sock));
  setup.RunCommand(command,
                   command.kind() == Command::Kind::kFunction ? command.function() : server_function,
                   std::move(token), /*forked_by_zygote=*/true);
}

}  // namespace tokenbox
