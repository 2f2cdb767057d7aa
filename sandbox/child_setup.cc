#include "sandbox/child_setup.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"
#include "ns/monotonic_clock.h"
#include "ns/mount_api.h"
#include "ns/mount_namespace.h"
#include "ns/pipe.h"
#include "ns/user_namespace.h"
#include "sandbox/capabilities.h"
#include "sandbox/handshake.h"
#include "sandbox/inside.h"
#include "sandbox/launch_request.h"
#include "token/bpffs_config.h"
#include "token/token.h"

namespace tokenbox {
namespace {

constexpr absl::Duration kHandshakeTimeout = absl::Seconds(30);

class ChildSetup {
 public:
  ChildSetup(const SandboxSpec& spec, const ChildContext& context, UniqueFd sock)
      : spec_(spec), context_(context), sock_(std::move(sock)) {}

  [[noreturn]] void Run();

 private:
  // Runs one named step; on failure reports it to the launcher and exits.
  void Step(absl::string_view name, const absl::Status& status) {
    if (!status.ok()) Fail(name, status);
    if (context_.verbose) {
      std::fprintf(stderr, "tokenbox: %8.3f ms  child: %.*s\n",
                   absl::ToDoubleMilliseconds(MonotonicNow() - context_.started),
                   static_cast<int>(name.size()), name.data());
    }
  }

  [[noreturn]] void Fail(absl::string_view step, const absl::Status& status) {
    absl::Status reported =
        SendFdMessage(sock_.get(), kSetupFailed, EncodeSetupFailure(step, status));
    if (!reported.ok()) {
      // The launcher will read the closed socket as a successful exec: the user's stderr is
      // the only place left to say what happened.
      std::string line = absl::StrCat("tokenbox: sandbox set-up failed at '", step, "': ",
                                      status.message(), " (reporting it to the launcher failed: ",
                                      reported.message(), ")\n");
      (void)!write(STDERR_FILENO, line.data(), line.size());
    }
    _exit(kSetupFailedExitCode);
  }

  absl::Status ResetSignals();
  absl::Status CreateNamespaces();
  absl::Status WaitForIdMaps();
  absl::Status MountBpffs();
  absl::Status ApplyFilesystemView();
  absl::Status BringUpLoopback();
  absl::Status SetResourceLimits();
  absl::Status ArrangeFds();
  // For a function, which has no exec: closes every fd above 2 but the socket, the token and
  // the passed fds.
  absl::Status CloseFdsNotPassed();
  // `expected_parent` is what getppid() returns while the parent lives; nullopt where it cannot
  // tell (pid 1 of a new pid namespace sees its parent as 0).
  absl::Status SetParentDeathSignal(std::optional<pid_t> expected_parent);
  void BuildEnvironment();
  // The last steps before exec or the function: fds, environment, working directory,
  // capabilities, parent-death signal.
  void FinishSetup();
  [[noreturn]] void EnterPidNamespace();
  [[noreturn]] void Exec();
  [[noreturn]] void RunFunction();
  // A fork server's zygote: serves launch requests until the launcher closes the socket.
  [[noreturn]] void RunZygote();
  void ServeLaunch(FdMessage& request);
  // A child cloned by the zygote: the per-launch steps, then exec or the function.
  [[noreturn]] void RunLaunch(UniqueFd token);

  const SandboxSpec& spec_;
  const ChildContext& context_;
  UniqueFd sock_;  // The handshake socket; close-on-exec, so execve closes it.
  std::optional<pid_t> expected_parent_ = context_.launcher_pid;
  UniqueFd bpffs_mount_;
  UniqueFd token_;
  std::vector<std::string> environment_;
};

absl::Status ChildSetup::ResetSignals() {
  // Dispositions and the mask survive execve; the launcher's (a test runner's SIGPIPE ignore,
  // say) are not the program's.
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
  }
  sigset_t none;
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, nullptr) != 0) return ErrnoStatus(errno, "sigprocmask");
  return absl::OkStatus();
}

absl::Status ChildSetup::CreateNamespaces() {
  int flags = CLONE_NEWUSER | CLONE_NEWNS;
  const ExtraNamespaces& ns = spec_.namespaces();
  if (ns.net) flags |= CLONE_NEWNET;
  if (ns.ipc) flags |= CLONE_NEWIPC;
  if (ns.uts) flags |= CLONE_NEWUTS;
  if (ns.cgroup) flags |= CLONE_NEWCGROUP;
  // CLONE_NEWPID comes later: it applies to children, and needs the new user namespace first.
  if (unshare(flags) != 0) {
    return ErrnoStatus(errno, absl::StrCat("unshare(0x", absl::Hex(flags), ")"),
                       "user namespaces may be disabled (see tokenbox probe)");
  }
  return SendFdMessage(sock_.get(), kChildUnshared);
}

absl::Status ChildSetup::WaitForIdMaps() {
  absl::StatusOr<FdMessage> reply = ReceiveFdMessage(sock_.get(), kHandshakeTimeout);
  if (!reply.ok()) return reply.status();
  if (reply->type != kIdMapsWritten) {
    return absl::DataLossError(absl::StrCat("expected the id maps, got message ", reply->type));
  }
  return absl::OkStatus();
}

absl::Status ChildSetup::MountBpffs() {
  absl::StatusOr<UniqueFd> mount = RequestDelegatedBpffs(sock_.get(), kHandshakeTimeout);
  if (!mount.ok()) return mount.status();
  bpffs_mount_ = *std::move(mount);
  if (!spec_.bpffs_path().has_value()) return absl::OkStatus();
  absl::Status attached = AttachMount(bpffs_mount_.get(), *spec_.bpffs_path());
  if (!attached.ok() && ErrnoOf(attached) == ENOENT) {
    return AppendRemedy(attached, absl::StrCat("the bpffs path ",
                                               Printable(*spec_.bpffs_path(), 256),
                                               " must exist (as a directory) inside the sandbox"));
  }
  if (!attached.ok() && (ErrnoOf(attached) == EACCES || ErrnoOf(attached) == EPERM)) {
    return AppendRemedy(attached, absl::StrCat(
        "the sandbox's user (host uid ", spec_.uid_map().ToOutside(0).value_or(0),
        ") must be able to reach the bpffs path, and a security module may refuse mounts in "
        "user namespaces; choose another --bpffs, or --no-bpffs"));
  }
  return attached;
}

absl::Status ChildSetup::ApplyFilesystemView() {
  const FilesystemView& view = spec_.filesystem();
  // Clone the writable directories first, while they still are writable: a clone keeps its
  // attributes when the tree it came from turns read-only, and goes back on top afterwards.
  std::vector<UniqueFd> clones;
  for (const std::string& path : view.writable_paths) {
    absl::StatusOr<UniqueFd> clone = OpenTree(AT_FDCWD, path, OPEN_TREE_CLONE | AT_RECURSIVE);
    if (!clone.ok()) return AppendRemedy(clone.status(), "a writable path must exist");
    clones.push_back(*std::move(clone));
  }
  if (view.read_only_host) {
    if (absl::Status s = MountSetAttr(AT_FDCWD, "/", AT_RECURSIVE, MOUNT_ATTR_RDONLY, 0); !s.ok()) {
      return s;
    }
  }
  if (view.private_tmp &&
      mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=25%") != 0) {
    return ErrnoStatus(errno, "mount(tmpfs, /tmp)");
  }
  for (size_t i = 0; i < clones.size(); ++i) {
    const std::string& path = view.writable_paths[i];
    // Under a private /tmp the mount point is gone; the tmpfs is writable, so make it.
    if (view.private_tmp && absl::StartsWith(path, "/tmp/")) {
      for (size_t slash = path.find('/', 5); ; slash = path.find('/', slash + 1)) {
        mkdir(path.substr(0, slash).c_str(), 0755);
        if (slash == std::string::npos) break;
      }
    }
    if (absl::Status s = AttachMount(clones[i].get(), path); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ChildSetup::BringUpLoopback() {
  UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return ErrnoStatus(errno, "socket(AF_INET)");
  ifreq request = {};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(sock.get(), SIOCGIFFLAGS, &request) != 0) return ErrnoStatus(errno, "SIOCGIFFLAGS(lo)");
  request.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(sock.get(), SIOCSIFFLAGS, &request) != 0) return ErrnoStatus(errno, "SIOCSIFFLAGS(lo, up)");
  return absl::OkStatus();
}

absl::Status ChildSetup::SetResourceLimits() {
  for (const ResourceLimit& limit : spec_.resource_limits()) {
    rlimit value = {limit.soft, limit.hard};
    if (setrlimit(limit.resource, &value) != 0) {
      return ErrnoStatus(errno, absl::StrCat("setrlimit(", limit.resource, ", ", limit.soft, ", ",
                                             limit.hard, ")"),
                         "a hard limit can only be lowered");
    }
  }
  return absl::OkStatus();
}

absl::Status ChildSetup::ArrangeFds() {
  // Every fd the program must not see is marked close-on-exec; only 0-2, the passed fds and the
  // token stay. The handshake socket stays open until execve closes it, which is how the
  // launcher learns that exec succeeded.
  int highest_target = 2;
  for (const PassedFd& passed : spec_.passed_fds()) highest_target = std::max(highest_target, passed.target);
  // Move the token and every source above all targets, so no dup2 below clobbers one of them.
  int floor = highest_target + 1;
  int token = fcntl(token_.get(), F_DUPFD_CLOEXEC, floor);
  if (token < 0) return ErrnoStatus(errno, "fcntl(token, F_DUPFD_CLOEXEC)");
  token_.Reset(token);
  std::vector<UniqueFd> sources;
  for (const PassedFd& passed : spec_.passed_fds()) {
    int moved = fcntl(passed.fd->get(), F_DUPFD_CLOEXEC, floor);
    if (moved < 0) return ErrnoStatus(errno, absl::StrCat("fcntl(fd for ", passed.target, ")"));
    sources.emplace_back(moved);
  }
  if (syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) != 0) {
    return ErrnoStatus(errno, "close_range(3, ~0, CLOSE_RANGE_CLOEXEC)", "needs Linux >= 5.11");
  }
  for (size_t i = 0; i < sources.size(); ++i) {
    int target = spec_.passed_fds()[i].target;
    if (dup2(sources[i].get(), target) < 0) {
      return ErrnoStatus(errno, absl::StrCat("dup2(passed fd -> ", target, ")"));
    }
  }
  // The token goes at the lowest fd number that is neither 0-2 nor a target.
  int token_fd = 3;
  for (bool taken = true; taken; ++token_fd) {
    taken = false;
    for (const PassedFd& passed : spec_.passed_fds()) taken = taken || passed.target == token_fd;
    if (!taken) break;
  }
  if (token_fd != token_.get()) {
    if (dup2(token_.get(), token_fd) < 0) return ErrnoStatus(errno, "dup2(token)");
    token_.Reset(token_fd);
  } else if (fcntl(token_fd, F_SETFD, 0) != 0) {
    return ErrnoStatus(errno, "fcntl(token, F_SETFD, 0)");
  }
  return absl::OkStatus();
}

absl::Status ChildSetup::SetParentDeathSignal(std::optional<pid_t> expected_parent) {
  // Set last: every credential change (unshare, setresuid) clears it.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) {
    return ErrnoStatus(errno, "prctl(PR_SET_PDEATHSIG, SIGKILL)",
                       "a seccomp filter or security module around the launcher may forbid it");
  }
  // A parent that died before the line above went unnoticed: the process was reparented.
  if (pid_t parent = getppid(); expected_parent.has_value() && parent != *expected_parent) {
    return absl::AbortedError(absl::StrCat(
        "getppid() is ", parent, ", not the parent's pid ", *expected_parent,
        ": the parent died during set-up, and the sandbox ends with it (nothing to fix here; "
        "find out what killed the launcher)"));
  }
  return absl::OkStatus();
}

void ChildSetup::BuildEnvironment() {
  for (const std::string& entry : spec_.environment()) {
    if (absl::StartsWith(entry, absl::StrCat(kTokenFdEnv, "=")) ||
        absl::StartsWith(entry, absl::StrCat(kLibbpfTokenPathEnv, "="))) {
      continue;  // Stale values from an outer sandbox must not leak in.
    }
    environment_.push_back(entry);
  }
  environment_.push_back(absl::StrCat(kTokenFdEnv, "=", token_.get()));
  if (spec_.bpffs_path().has_value()) {
    environment_.push_back(absl::StrCat(kLibbpfTokenPathEnv, "=", *spec_.bpffs_path()));
  }
}

void ChildSetup::EnterPidNamespace() {
  // This process stays in the launcher's pid namespace as a supervisor; its child is pid 1 of
  // the new one. The supervisor mirrors how pid 1 ended, so the launcher sees the program's own
  // exit code or signal. Killing the supervisor kills pid 1 (PR_SET_PDEATHSIG), and with it the
  // whole namespace.
  Step("create pid namespace",
       unshare(CLONE_NEWPID) == 0
           ? absl::OkStatus()
           : ErrnoStatus(errno, "unshare(CLONE_NEWPID)",
                         "check /proc/sys/user/max_pid_namespaces, or run without a pid "
                         "namespace (--no-unshare-pid)"));
  Step("set parent-death signal", SetParentDeathSignal(context_.launcher_pid));
  absl::StatusOr<Pipe> report = MakePipe();
  if (!report.ok()) Fail("create pid namespace", report.status());
  UniqueFd report_read = std::move(report->read_end), report_write = std::move(report->write_end);
  // pid 1 sees its parent as pid 0, so getppid() cannot tell it that the supervisor died before
  // its PR_SET_PDEATHSIG took hold; a pidfd of the supervisor can.
  UniqueFd supervisor(static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0)));
  if (!supervisor) Fail("create pid namespace", ErrnoStatus(errno, "pidfd_open(self)"));
  pid_t init = fork();
  if (init < 0) Fail("create pid namespace", ErrnoStatus(errno, "fork(pid 1)"));
  if (init == 0) {
    report_read.Reset();
    expected_parent_.reset();
    Step("set parent-death signal (pid 1)", SetParentDeathSignal(expected_parent_));
    pollfd exited = {.fd = supervisor.get(), .events = POLLIN};
    if (poll(&exited, 1, 0) != 0) {
      Fail("set parent-death signal (pid 1)", absl::AbortedError("the supervisor died during set-up"));
    }
    supervisor.Reset();
    Step("mount /proc", mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0
                            ? absl::OkStatus()
                            : ErrnoStatus(errno, "mount(proc, /proc)",
                                          "the sandbox's /proc must be a directory it can mount on"));
    if (spec_.namespaces().program_is_pid1) {
      if (spec_.runs_function()) RunFunction();
      Exec();
    }
    pid_t program = fork();
    if (program < 0) Fail("start the program", ErrnoStatus(errno, "fork"));
    if (program == 0) {
      report_write.Reset();
      expected_parent_ = 1;
      if (spec_.runs_function()) RunFunction();
      Exec();
    }
    // pid 1: reap everything; when the program ends, hand its status to the supervisor.
    sock_.Reset();
    token_.Reset();
    (void)RestrictCapabilities(CapabilitySet());
    for (;;) {
      int status;
      pid_t done = wait(&status);
      if (done == program) {
        (void)!write(report_write.get(), &status, sizeof(status));
        _exit(0);
      }
      if (done < 0 && errno == ECHILD) _exit(0);
    }
  }
  // Supervisor.
  report_write.Reset();
  supervisor.Reset();
  sock_.Reset();
  token_.Reset();
  bpffs_mount_.Reset();
  (void)RestrictCapabilities(CapabilitySet());
  int init_status = 0;
  while (waitpid(init, &init_status, 0) < 0 && errno == EINTR) {
  }
  int program_status = init_status;
  if (read(report_read.get(), &program_status, sizeof(program_status)) !=
      sizeof(program_status)) {
    program_status = init_status;  // pid 1 was the program, or died before reporting.
  }
  if (WIFEXITED(program_status)) _exit(WEXITSTATUS(program_status));
  int sig = WTERMSIG(program_status);
  rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  signal(sig, SIG_DFL);
  raise(sig);
  _exit(128 + sig);
}

void ChildSetup::FinishSetup() {
  Step("arrange fds", ArrangeFds());
  BuildEnvironment();
  if (spec_.working_directory().has_value()) {
    const std::string& dir = *spec_.working_directory();
    Step("change directory",
         chdir(dir.c_str()) == 0 ? absl::OkStatus()
                                 : ErrnoStatus(errno, absl::StrCat("chdir(", Printable(dir, 256), ")"),
                                               absl::StrCat("the directory must exist inside the sandbox and be searchable by host uid ",
                                                            spec_.uid_map().ToOutside(0).value_or(0))));
  }
  Step("drop capabilities", LockCapabilitiesForExec(spec_.kept_capabilities()));
  Step("set parent-death signal", SetParentDeathSignal(expected_parent_));
}

void ChildSetup::Exec() {
  FinishSetup();
  std::vector<char*> argv;
  for (const std::string& arg : spec_.argv()) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& entry : environment_) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  const std::string& program = spec_.argv()[0];
  int err = 0;
  std::vector<std::string> unsearchable;
  std::string found_without_interpreter;
  if (program.find('/') != std::string::npos) {
    execve(program.c_str(), argv.data(), envp.data());
    err = errno;
    struct stat info;
    if (err == ENOENT && stat(program.c_str(), &info) == 0) found_without_interpreter = program;
  } else {
    // The PATH search is done here rather than by execvpe(), which reports EACCES for a program
    // that exists nowhere as soon as one PATH directory is closed to the sandbox's user.
    err = ENOENT;
    std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (const std::string& entry : environment_) {
      if (absl::StartsWith(entry, "PATH=")) path = entry.substr(5);
    }
    for (absl::string_view dir : absl::StrSplit(path, ':')) {
      std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", program);
      execve(candidate.c_str(), argv.data(), envp.data());
      const int exec_err = errno;
      struct stat info;
      if (exec_err == ENOENT && stat(candidate.c_str(), &info) == 0) {
        found_without_interpreter = candidate;  // It is there; what it needs is not.
        break;
      }
      if (exec_err == ENOENT || exec_err == ENOTDIR) continue;
      if (exec_err != EACCES) {
        err = exec_err;
        break;
      }
      if (stat(candidate.c_str(), &info) == 0) {
        err = EACCES;  // Found but not executable; a later directory may still have it.
      } else {
        unsearchable.emplace_back(dir);  // The directory, not the program, is closed.
      }
    }
  }
  std::string remedy;
  if (!found_without_interpreter.empty()) {
    remedy = absl::StrCat("'", Printable(found_without_interpreter, 256),
                          "' exists, but the interpreter on its #! line, or the dynamic loader it "
                          "names, does not exist inside the sandbox");
  } else if (err == ENOENT) {
    remedy = absl::StrCat("program not found: '", Printable(program, 256),
                          "' does not exist inside the sandbox",
                          program.find('/') == std::string::npos ? " or in its PATH" : "");
    if (!unsearchable.empty()) {
      absl::StrAppend(&remedy, " (PATH directories the sandbox's user cannot search: ",
                      absl::StrJoin(unsearchable, ", "), ")");
    }
  } else if (err == EACCES || err == EPERM) {
    remedy = absl::StrCat("'", Printable(program, 256),
                          "' is not executable by the sandbox's user (host uid ",
                          spec_.uid_map().ToOutside(0).value_or(0),
                          "): check its mode, and that every directory above it lets that user "
                          "search it");
  } else if (err == ENOEXEC) {
    remedy = absl::StrCat("'", Printable(program, 256),
                          "' is not in an executable format (a script without #!?)");
  }
  Fail(kStepExec, ErrnoStatus(err, absl::StrCat("execve(", Printable(program, 256), ")"), remedy));
}

absl::Status ChildSetup::CloseFdsNotPassed() {
  std::vector<int> keep = {sock_.get(), token_.get()};
  for (const PassedFd& passed : spec_.passed_fds()) keep.push_back(passed.target);
  std::sort(keep.begin(), keep.end());
  unsigned int first = 3;
  for (int fd : keep) {
    if (fd < 0 || static_cast<unsigned int>(fd) < first) continue;
    if (static_cast<unsigned int>(fd) > first &&
        syscall(SYS_close_range, first, static_cast<unsigned int>(fd) - 1, 0u) != 0) {
      return ErrnoStatus(errno, absl::StrCat("close_range(", first, ", ", fd - 1, ")"),
                         "needs Linux >= 5.9");
    }
    first = static_cast<unsigned int>(fd) + 1;
  }
  if (syscall(SYS_close_range, first, ~0u, 0u) != 0) {
    return ErrnoStatus(errno, absl::StrCat("close_range(", first, ", ~0)"), "needs Linux >= 5.9");
  }
  return absl::OkStatus();
}

void ChildSetup::RunFunction() {
  FinishSetup();
  // There is no execve to close what ArrangeFds() marked close-on-exec: close it here, so that
  // the function sees the fds a program would, and nothing of the launcher's.
  Step("close fds not passed", CloseFdsNotPassed());
  clearenv();
  for (std::string& entry : environment_) putenv(entry.data());
  (void)SendFdMessage(sock_.get(), kFunctionStarted);
  sock_.Reset();
  std::fflush(nullptr);
  int code = spec_.function()();
  std::fflush(nullptr);
  _exit(code);
}

void ChildSetup::Run() {
  Step("reset signals", ResetSignals());
  if (!spec_.namespaces().pid) {
    // Its own process group, so that a timeout or Kill() reaches everything it starts.
    Step("new process group", setpgid(0, 0) == 0 ? absl::OkStatus() : ErrnoStatus(errno, "setpgid"));
  }
  Step("drop supplementary groups", DropSupplementaryGroups());
  Step("create namespaces", CreateNamespaces());
  Step("wait for id maps", WaitForIdMaps());
  Step("enter mapped ids", EnterMappedIds(0, 0));
  Step("make mounts private", MakeMountsPrivate());
  Step("arrange filesystem view", ApplyFilesystemView());
  Step(spec_.bpffs_path().has_value() ? "mount delegated bpffs" : "create delegated bpffs",
       MountBpffs());
  absl::StatusOr<UniqueFd> token = CreateToken(bpffs_mount_.get());
  Step("create BPF token", token.status());
  token_ = *std::move(token);
  bpffs_mount_.Reset();
  if (spec_.namespaces().net) Step("bring up loopback", BringUpLoopback());
  if (spec_.namespaces().uts) {
    Step("set hostname", sethostname("tokenbox", 8) == 0 ? absl::OkStatus()
                                                         : ErrnoStatus(errno, "sethostname"));
  }
  if (context_.zygote) RunZygote();
  Step("set resource limits", SetResourceLimits());
  if (spec_.namespaces().pid) EnterPidNamespace();
  if (spec_.runs_function()) RunFunction();
  Exec();
}

void ChildSetup::RunZygote() {
  // The zygote keeps every capability of its namespaces (each launched child drops them itself)
  // and runs no code but this loop.
  Step("set parent-death signal", SetParentDeathSignal(expected_parent_));
  Step("start fork server", SendFdMessage(sock_.get(), kZygoteReady));
  for (;;) {
    absl::StatusOr<FdMessage> request = ReceiveFdMessage(sock_.get());
    if (!request.ok()) _exit(0);  // The launcher closed the fork server, or died.
    ServeLaunch(*request);
  }
}

void ChildSetup::ServeLaunch(FdMessage& request) {
  auto reply_error = [&](const absl::Status& status) {
    (void)SendFdMessage(sock_.get(), kZygoteLaunched, absl::StrCat("E", SerializeStatus(status)));
  };
  if (request.type != kZygoteLaunch || request.fds.size() < 2) {
    return reply_error(absl::DataLossError(absl::StrCat(
        "fork server: expected a launch request, got message ", request.type)));
  }
  std::string bytes;
  char buffer[16384];
  for (off_t offset = 0;;) {
    ssize_t n = pread(request.fds[0].get(), buffer, sizeof(buffer), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return reply_error(ErrnoStatus(errno, "pread(launch request)"));
    if (n == 0) break;
    bytes.append(buffer, static_cast<size_t>(n));
    offset += n;
  }
  UniqueFd report = std::move(request.fds[1]);
  std::vector<UniqueFd> passed;
  for (size_t i = 2; i < request.fds.size(); ++i) passed.push_back(std::move(request.fds[i]));
  absl::StatusOr<SandboxSpec> launch = LaunchRequestCodec::Decode(spec_, bytes, std::move(passed));
  if (!launch.ok()) return reply_error(launch.status());
  // CLONE_PARENT: the launcher, not the zygote, becomes the parent, so it can wait on the child
  // through a pidfd like on any other sandbox. The zygote is single-threaded, so a raw clone
  // is as safe as fork here.
  pid_t pid = static_cast<pid_t>(
      syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  if (pid < 0) return reply_error(ErrnoStatus(errno, "clone(CLONE_PARENT)"));
  if (pid == 0) {
    sock_.Reset();
    const ChildContext launch_context{context_.launcher_pid, context_.verbose, MonotonicNow()};
    ChildSetup(*launch, launch_context, std::move(report)).RunLaunch(std::move(token_));
  }
  (void)SendFdMessage(sock_.get(), kZygoteLaunched, absl::StrCat("P", pid));
}

void ChildSetup::RunLaunch(UniqueFd token) {
  token_ = std::move(token);
  Step("new process group", setpgid(0, 0) == 0 ? absl::OkStatus() : ErrnoStatus(errno, "setpgid"));
  Step("set resource limits", SetResourceLimits());
  if (spec_.namespaces().pid) {
    // Each launch gets a pid namespace of its own, so that siblings and the zygote cannot be
    // signalled, traced or read through /proc by one another, and everything a program forks
    // dies with it. Its /proc needs a mount namespace of its own too: the zygote's is shared.
    Step("create mount namespace",
         unshare(CLONE_NEWNS) == 0
             ? absl::OkStatus()
             : ErrnoStatus(errno, "unshare(CLONE_NEWNS)",
                           "check /proc/sys/user/max_mnt_namespaces, or start the fork server "
                           "without a pid namespace"));
    EnterPidNamespace();
  }
  if (spec_.runs_function()) RunFunction();
  Exec();
}

}  // namespace

void RunSandboxChild(const SandboxSpec& spec, const ChildContext& context, UniqueFd sock) {
  // The launcher may be a multi-threaded program; after fork only this thread exists. glibc
  // keeps malloc usable, which the steps rely on, and they take no other lock a thread of the
  // launcher could have held (timings use MonotonicNow(), not absl::Now()). GCC 12's
  // AddressSanitizer allocator is not fork-safe: see "Known limits" in docs/SECURITY.md.
  if (getppid() != context.launcher_pid) _exit(kSetupFailedExitCode);
  ChildSetup(spec, context, std::move(sock)).Run();
}

}  // namespace tokenbox
