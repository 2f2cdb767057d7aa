// Makes each syscall of the launch fail in turn (strace --inject) and checks that tokenbox says
// which step failed with which errno, exits 125, and leaves no process, zombie, mount or fd.
// Zombies and fds are checked inside the launching process (tests/fault_target), where they
// would be; a count over the whole host would be disturbed by anything else running.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/command_runner.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::CommandResult;
using ::tokenbox::testing::Contains;
using ::tokenbox::testing::CountMounts;
using ::tokenbox::testing::ProcessWithArgument;
using ::tokenbox::testing::RunCommand;

struct Fault {
  const char* inject;  // strace's --inject=SYSCALL:error=ERRNO:when=N
  const char* step;    // The step tokenbox must name.
  const char* errno_name;
  const char* only_path = nullptr;  // strace -P: inject only into calls on this path.
  bool pid_namespace = false;       // Launch with the default pid namespace, not without.
  bool fork_server = false;         // Launch through a fork server (--via-fork-server).
};

const Fault kFaults[] = {
    {"socketpair:error=ENFILE:when=1", "create handshake socket", "ENFILE"},
    {"clone:error=EAGAIN:when=1", "fork", "EAGAIN"},
    {"pidfd_open:error=EMFILE:when=1", "open pidfd", "EMFILE"},
    {"unshare:error=EPERM:when=1", "create namespaces", "EPERM"},
#if !defined(__SANITIZE_ADDRESS__)
    // Not in sanitized builds: their runtime probes memory with write() in every process, at
    // points no `when` can count around, and a failing write() trips its own checks.
    {"write:error=EPERM:when=1", "write id maps", "EPERM"},
#endif
    {"setresgid:error=EPERM:when=1", "enter mapped ids", "EPERM"},
    {"setresuid:error=EPERM:when=1", "enter mapped ids", "EPERM"},
    {"mount:error=EPERM:when=1", "make mounts private", "EPERM"},
    {"fsopen:error=ENOMEM:when=1", "mount delegated bpffs", "ENOMEM"},
    {"fsconfig:error=EINVAL:when=1", "configure delegated bpffs", "EINVAL"},
    {"fsconfig:error=EINVAL:when=2", "configure delegated bpffs", "EINVAL"},
    {"fsconfig:error=ENOMEM:when=3", "configure delegated bpffs", "ENOMEM"},
    {"fsmount:error=ENOMEM:when=1", "configure delegated bpffs", "ENOMEM"},
    {"move_mount:error=EACCES:when=1", "mount delegated bpffs", "EACCES"},
    {"bpf:error=EPERM:when=1", "create BPF token", "EPERM"},
    {"prctl:error=EINVAL:when=1", "drop capabilities", "EINVAL"},
    {"prctl:error=EPERM:when=2", "drop capabilities", "EPERM"},
    {"capset:error=EPERM:when=1", "drop capabilities", "EPERM"},
    {"execve:error=ENOMEM:when=1", "exec", "ENOMEM", "/usr/bin/true"},
    {"sendmsg:error=EPIPE:when=1", "create namespaces", "EPIPE"},
    {"sendmsg:error=ENOBUFS:when=2", "mount delegated bpffs", "ENOBUFS"},
    {"recvmsg:error=EIO:when=1", "wait for the child", "EIO"},
    {"recvmsg:error=EIO:when=2", "wait for the child's bpffs context", "EIO"},
    // The pid namespace's own steps (the default mode).
    {"unshare:error=ENOSPC:when=2", "create pid namespace", "ENOSPC", nullptr, true},
    {"mount:error=EPERM:when=1", "mount /proc", "EPERM", "/proc", true},
    {"execve:error=ENOMEM:when=1", "exec", "ENOMEM", "/usr/bin/true", true},
    // A fork-server launch's own steps: the request, and its pid namespace. strace counts
    // calls per process: a launch's first unshare (its mount namespace) cannot be told from the
    // zygote's, its second is the pid namespace.
    {"memfd_create:error=EMFILE:when=1", "send launch request", "EMFILE", nullptr, true, true},
    {"unshare:error=ENOSPC:when=2", "create pid namespace", "ENOSPC", nullptr, true, true},
    {"mount:error=EPERM:when=1", "mount /proc", "EPERM", "/proc", true, true},
    {"execve:error=ENOMEM:when=1", "exec", "ENOMEM", "/usr/bin/true", true, true},
};

std::vector<std::string> Strace(const Fault& fault, std::vector<std::string> command) {
  std::vector<std::string> argv = {"/usr/bin/strace", "-f", "-qq", "-o", "/dev/null",
                                   absl::StrCat("--inject=", fault.inject)};
  if (fault.only_path != nullptr) {
    argv.push_back("-P");
    argv.push_back(fault.only_path);
  }
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

TEST_CASE("Every injected set-up fault is reported with its step and errno, and leaves nothing") {
  TB_REQUIRE_PRIVILEGE();
  REQUIRE_MESSAGE(access("/usr/bin/strace", X_OK) == 0, "strace is missing: run tools/install-deps.sh");
  // In a sanitized build, LeakSanitizer cannot run under ptrace (strace): the traced commands
  // skip it, or they would die at exit. Their leaks are checked untraced by the other tests.
  if (const char* asan = getenv("ASAN_OPTIONS"); asan != nullptr) {
    setenv("ASAN_OPTIONS", absl::StrCat(asan, ":detect_leaks=0").c_str(), 1);
  }
  std::printf("%-36s | %-11s | %-34s | %s\n", "injected fault", "launch", "reported step", "exit");
  for (const Fault& fault : kFaults) {
    INFO(std::string(fault.inject));
    const std::string marker = absl::StrCat("tokenbox_fault_marker_", getpid());
    const int mounts_before = CountMounts();

    // The command a user runs: one line naming step and errno, exit 125, never a hang.
    std::vector<std::string> run = {"tools/tokenbox", "run", "--delegate-cmds=map_create",
                                    "--delegate-maps=array",
                                    fault.pid_namespace ? "--unshare-pid" : "--no-unshare-pid"};
    if (fault.fork_server) run.push_back("--via-fork-server");
    run.insert(run.end(), {"--", "/usr/bin/true", marker});
    CommandResult cli = RunCommand(Strace(fault, run), {.timeout = absl::Seconds(30)});
    INFO(cli.err);
    CHECK_FALSE(cli.timed_out);
    CHECK(cli.exit_code == 125);
    CHECK(testing::CountLines(cli.err) == 1);
    CHECK(Contains(cli.err, absl::StrCat("sandbox set-up failed at '", fault.step, "'")));
    CHECK(Contains(cli.err, absl::StrCat(": ", fault.errno_name, " (")));
    if (std::string(fault.step) == "create pid namespace") {
      CHECK(Contains(cli.err, "check /proc/sys/user/max_pid_namespaces"));  // The remedy.
    }
    std::printf("%-36s | %-11s | %-34s | %d\n", fault.inject,
                fault.fork_server ? "fork server" : "direct", fault.step, cli.exit_code);

    // The library in-process: no fd, child or zombie left in the launcher.
    std::vector<std::string> target = {"tests/fault_target"};
    if (fault.fork_server) target.push_back("--via-fork-server");
    target.insert(target.end(), {fault.pid_namespace ? "--pid" : "--no-pid", "/usr/bin/true", marker});
    CommandResult lib = RunCommand(Strace(fault, target), {.timeout = absl::Seconds(30)});
    CHECK_FALSE(lib.timed_out);
    INFO(lib.out);
    if (std::string(fault.inject).rfind("clone", 0) != 0) {  // strace's own fork is unaffected.
      CHECK(Contains(lib.out, absl::StrCat("result=sandbox set-up failed at '", fault.step, "'")));
    }
    const size_t before = lib.out.find("fds_before="), after = lib.out.find("fds_after=");
    REQUIRE(before != std::string::npos);
    REQUIRE(after != std::string::npos);
    CHECK(std::stoi(lib.out.substr(before + 11)) == std::stoi(lib.out.substr(after + 10)));
    CHECK(Contains(lib.out, "children_left=0"));

    CHECK_FALSE(ProcessWithArgument(marker));
    CHECK(CountMounts() == mounts_before);
  }
}

}  // namespace
}  // namespace tokenbox
