// Real sandboxes, launched through the library and checked from outside and from inside.
#include "sandbox/launcher.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"
#include "ns/pipe.h"
#include "ns/unique_fd.h"
#include "sandbox/capabilities.h"
#include "sandbox/handshake.h"
#include "sandbox/inside.h"
#include "tests/bpf_ops.h"
#include "tests/captured_run.h"
#include "tests/command_runner.h"
#include "tests/process_state.h"
#include "tests/test_support.h"
#include "token/token.h"

namespace tokenbox {
namespace {

DelegationPolicy DemoPolicy() {
  return *ParseDelegationPolicy("map_create:prog_load:btf_load", "array", "socket_filter", "any");
}

using ::tokenbox::testing::KeyValues;
using Outcome = ::tokenbox::testing::CapturedRun;

// A sandbox run through Launch() with its stdout captured.
Outcome RunCaptured(SandboxBuilder builder) {
  return testing::RunCaptured(std::move(builder),
                              [](const SandboxSpec& spec) { return Launch(spec); });
}

SandboxBuilder Base() {
  SandboxBuilder builder;
  builder.Policy(DemoPolicy()).Timeout(absl::Seconds(60));
  return builder;
}

TEST_CASE("The exec'd program holds exactly CAP_BPF in every set, locked, as nobody") {
  TB_REQUIRE_PRIVILEGE();
  Outcome outcome = RunCaptured(std::move(Base().Program({testing::InspectorPath()})));
  INFO(outcome.out);
  CHECK(outcome.status == ExitStatus::Exited(0));
  auto v = KeyValues(outcome.out);
  const std::string bpf_only = "0000008000000000";  // Bit 39, CAP_BPF.
  CHECK(v["CapEff"] == bpf_only);
  CHECK(v["CapPrm"] == bpf_only);
  CHECK(v["CapBnd"] == bpf_only);
  CHECK(v["CapInh"] == bpf_only);
  CHECK(v["CapAmb"] == bpf_only);
  CHECK(v["NoNewPrivs"] == "1");
  CHECK(v["securebits"] == "0xf");  // NOROOT, NO_SETUID_FIXUP and both their locks.
  CHECK(v["Groups"].empty());
  CHECK(v["uid"] == "0");
  CHECK(v["uid_map"] == "0:65534:1");
  CHECK(v["fds"] == "0,1,2,3");  // stdin, the captured stdout, stderr, the token.
  CHECK(v["TOKENBOX_TOKEN_FD"] == "3");
  CHECK(v["LIBBPF_BPF_TOKEN_PATH"] == "/sys/fs/bpf");
  CHECK(v["token"] == "ok");
}

TEST_CASE("Kept capabilities are added to CAP_BPF in every set, and nothing else is") {
  TB_REQUIRE_PRIVILEGE();
  SandboxBuilder builder = Base();
  builder.Program({testing::InspectorPath()}).KeepCapabilities(CapabilitySet::Of({CAP_NET_ADMIN}));
  Outcome outcome = RunCaptured(std::move(builder));
  auto v = KeyValues(outcome.out);
  const std::string bpf_and_net_admin = "0000008000001000";  // Bits 39 and 12.
  CHECK(v["CapEff"] == bpf_and_net_admin);
  CHECK(v["CapBnd"] == bpf_and_net_admin);
  CHECK(v["CapAmb"] == bpf_and_net_admin);
}

TEST_CASE("Outside, the running sandbox is the mapped unprivileged host user with no groups") {
  TB_REQUIRE_PRIVILEGE();
  auto spec = Base().Program({"/bin/sleep", "30"}).HostUser(4242).HostGroup(4343).Build();
  TB_REQUIRE_OK(spec);
  auto child = Launch(*spec);
  TB_REQUIRE_OK(child);
  std::ifstream status(absl::StrCat("/proc/", child->pid(), "/status"));
  std::string line, uid, gid, groups = "?";
  while (std::getline(status, line)) {
    if (line.rfind("Uid:", 0) == 0) uid = line;
    if (line.rfind("Gid:", 0) == 0) gid = line;
    if (line.rfind("Groups:", 0) == 0) groups = line;
  }
  CHECK(uid == "Uid:\t4242\t4242\t4242\t4242");
  CHECK(gid == "Gid:\t4343\t4343\t4343\t4343");
  CHECK(absl::StripAsciiWhitespace(groups) == "Groups:");
  TB_CHECK_OK(child->Kill());
  CHECK(child->Wait()->kind == ExitStatus::Kind::kSignaled);
}

TEST_CASE("With the bpffs elsewhere or nowhere, the environment says so") {
  TB_REQUIRE_PRIVILEGE();
  SandboxBuilder elsewhere = Base();
  elsewhere.Program({testing::InspectorPath()}).BpffsPath("/mnt");
  CHECK(KeyValues(RunCaptured(std::move(elsewhere)).out)["LIBBPF_BPF_TOKEN_PATH"] == "/mnt");
  SandboxBuilder nowhere = Base();
  nowhere.Program({testing::InspectorPath()}).NoBpffs().SetEnv(kLibbpfTokenPathEnv, "/stale");
  auto v = KeyValues(RunCaptured(std::move(nowhere)).out);
  CHECK(v["LIBBPF_BPF_TOKEN_PATH"] == "(unset)");
  CHECK(v["token"] == "ok");
}

TEST_CASE("Passed fds arrive at their numbers and nothing else leaks in") {
  TB_REQUIRE_PRIVILEGE();
  auto extra = MakePipe();
  TB_REQUIRE_OK(extra);
  UniqueFd unrelated(open("/dev/null", O_RDONLY));  // Not close-on-exec: must not get in anyway.
  SandboxBuilder builder = Base();
  builder.Program({testing::InspectorPath()}).PassFd(extra->write_end.get(), 7);
  auto v = KeyValues(RunCaptured(std::move(builder)).out);
  CHECK(v["fds"] == "0,1,2,3,7");
}

TEST_CASE("The environment is inherited, set, unset or cleared as asked; cwd is applied") {
  TB_REQUIRE_PRIVILEGE();
  setenv("TOKENBOX_TEST_INHERITED", "yes", 1);
  SandboxBuilder builder = Base();
  builder.Program({"/bin/sh", "-c", "echo inherited=$TOKENBOX_TEST_INHERITED set=$SET_ME "
                                    "gone=${HOME:-none} cwd=$(pwd)"})
      .SetEnv("SET_ME", "value with spaces")
      .UnsetEnv("HOME")
      .WorkingDirectory("/usr");
  Outcome outcome = RunCaptured(std::move(builder));
  CHECK(outcome.out == "inherited=yes set=value with spaces gone=none cwd=/usr\n");
  SandboxBuilder cleared = Base();
  cleared.Program({"/usr/bin/env"}).SetEnv("ONLY", "this").ClearEnvironment();
  outcome = RunCaptured(std::move(cleared));
  CHECK(outcome.out == "ONLY=this\nTOKENBOX_TOKEN_FD=3\nLIBBPF_BPF_TOKEN_PATH=/sys/fs/bpf\n");
}

TEST_CASE("Exit codes and signals pass through, with and without a pid namespace") {
  TB_REQUIRE_PRIVILEGE();
  for (bool pid_ns : {false, true}) {
    INFO("pid namespace: ", pid_ns);
    ExtraNamespaces namespaces;
    namespaces.pid = pid_ns;
    SandboxBuilder exits = Base();
    exits.Program({"/bin/sh", "-c", "exit 42"}).Namespaces(namespaces);
    CHECK(RunCaptured(std::move(exits)).status == ExitStatus::Exited(42));
    SandboxBuilder signaled = Base();
    signaled.Program({"/bin/sh", "-c", "kill -TERM $$; sleep 5"}).Namespaces(namespaces);
    CHECK(RunCaptured(std::move(signaled)).status == ExitStatus::Signaled(SIGTERM));
  }
}

TEST_CASE("In a pid namespace the program is pid 2 under a tiny init, or pid 1 if asked") {
  TB_REQUIRE_PRIVILEGE();
  ExtraNamespaces namespaces;
  namespaces.pid = true;
  SandboxBuilder builder = Base();
  // The shell counts /proc's pids by a glob it expands itself: a pipeline (ls | grep -c) raced,
  // since ls could read /proc before the shell had forked grep.
  builder.Program({"/bin/sh", "-c", "echo $$; set -- /proc/[0-9]*; echo $#"})
      .Namespaces(namespaces);
  CHECK(RunCaptured(std::move(builder)).out == "2\n2\n");  // init and sh, nothing else.
  namespaces.program_is_pid1 = true;
  SandboxBuilder pid1 = Base();
  pid1.Program({"/bin/sh", "-c", "echo $$"}).Namespaces(namespaces);
  CHECK(RunCaptured(std::move(pid1)).out == "1\n");
}

TEST_CASE("A timeout kills the whole sandbox, grandchildren included") {
  TB_REQUIRE_PRIVILEGE();
  for (bool pid_ns : {false, true}) {
    INFO("pid namespace: ", pid_ns);
    std::string marker = absl::StrCat("tokenbox_timeout_marker_", pid_ns, "_", getpid());
    ExtraNamespaces namespaces;
    namespaces.pid = pid_ns;
    auto spec = Base()
                    .Program({"/bin/sh", "-c", absl::StrCat("sleep 100 ", marker, " & sleep 100"),
                              marker})
                    .Namespaces(namespaces)
                    .Timeout(absl::Milliseconds(300))
                    .Build();
    TB_REQUIRE_OK(spec);
    absl::Time start = absl::Now();
    auto child = Launch(*spec);
    TB_REQUIRE_OK(child);
    auto status = child->Wait();
    TB_REQUIRE_OK(status);
    CHECK(*status == ExitStatus::TimedOut());
    CHECK(absl::Now() - start < absl::Seconds(10));
    // The grandchild dies with its group or namespace; give the kernel a moment to reap it.
    bool alive = true;
    for (int i = 0; i < 100 && alive; ++i) {
      alive = testing::ProcessWithArgument(marker);
      if (alive) usleep(20000);
    }
    CHECK_FALSE(alive);
  }
}

// Waiting late must not turn a child that ended in time into a timed-out one.
TEST_CASE("A sandbox that ended before its timeout is not reported as timed out when waited on late") {
  TB_REQUIRE_PRIVILEGE();
  auto spec = Base().Program({"/bin/true"}).Timeout(absl::Milliseconds(300)).Build();
  TB_REQUIRE_OK(spec);
  auto child = Launch(*spec);
  TB_REQUIRE_OK(child);
  absl::SleepFor(absl::Milliseconds(600));
  CHECK(*child->Wait() == ExitStatus::Exited(0));
}

TEST_CASE("Kill() ends a running sandbox, and WaitFor() reports a timeout") {
  TB_REQUIRE_PRIVILEGE();
  auto spec = Base().Program({"/bin/sleep", "100"}).Build();
  TB_REQUIRE_OK(spec);
  auto child = Launch(*spec);
  TB_REQUIRE_OK(child);
  TB_CHECK_OK(child->Kill());
  auto status = child->Wait();
  TB_REQUIRE_OK(status);
  CHECK(*status == ExitStatus::Signaled(SIGKILL));
  CHECK(child->resource_usage().has_value());
  auto again = Launch(*spec);
  TB_REQUIRE_OK(again);
  CHECK(*again->WaitFor(absl::Milliseconds(100)) == ExitStatus::TimedOut());
}

TEST_CASE("Set-up failures name their step, syscall and errno") {
  TB_REQUIRE_PRIVILEGE();
  auto missing_dir = Base().Program({"/bin/true"}).BpffsPath("/no/such/dir").Build();
  TB_REQUIRE_OK(missing_dir);
  auto child = Launch(*missing_dir);
  REQUIRE_FALSE(child.ok());
  CHECK(SetupStepOf(child.status()) == "mount delegated bpffs");
  CHECK(ErrnoOf(child.status()) == ENOENT);
  CHECK(std::string(child.status().message())
            .rfind("sandbox set-up failed at 'mount delegated bpffs': ", 0) == 0);

  auto missing_program = Base().Program({"/no/such/program"}).Build();
  TB_REQUIRE_OK(missing_program);
  auto missing = Launch(*missing_program);
  CHECK(SetupStepOf(missing.status()) == kStepExec);
  CHECK(ErrnoOf(missing.status()) == ENOENT);
  CHECK(std::string(missing.status().message()).find("program not found") != std::string::npos);

  std::string no_exec_bit = testing::InspectorStage().Write("no_exec_bit", "#!/bin/sh\n", 0644);
  auto not_executable = Base().Program({no_exec_bit}).Build();
  TB_REQUIRE_OK(not_executable);
  auto denied = Launch(*not_executable);
  CHECK(SetupStepOf(denied.status()) == kStepExec);
  CHECK(ErrnoOf(denied.status()) == EACCES);

  std::string script = testing::InspectorStage().Write("no_shebang", "echo this is not a binary\n", 0755);
  auto bad_format = Base().Program({script}).Build();
  TB_REQUIRE_OK(bad_format);
  auto not_binary = Launch(*bad_format);
  CHECK(SetupStepOf(not_binary.status()) == kStepExec);
  CHECK(ErrnoOf(not_binary.status()) == ENOEXEC);
}

TEST_CASE("A bad rlimit and a missing working directory fail at their steps") {
  TB_REQUIRE_PRIVILEGE();
  auto raise_hard = Base().Program({"/bin/true"}).ResourceLimitOf(RLIMIT_NOFILE, 1 << 30, 1 << 30).Build();
  TB_REQUIRE_OK(raise_hard);
  auto child = Launch(*raise_hard);
  CHECK(SetupStepOf(child.status()) == "set resource limits");
  CHECK(ErrnoOf(child.status()) == EPERM);
  auto bad_dir = Base().Program({"/bin/true"}).WorkingDirectory("/no/such/dir").Build();
  TB_REQUIRE_OK(bad_dir);
  auto no_dir = Launch(*bad_dir);
  CHECK(SetupStepOf(no_dir.status()) == "change directory");
  CHECK(ErrnoOf(no_dir.status()) == ENOENT);
}

TEST_CASE("A read-only host view leaves only the named directories and a private /tmp writable") {
  TB_REQUIRE_PRIVILEGE();
  testing::StagedFiles files;
  std::string writable = files.path("writable");
  REQUIRE(mkdir(writable.c_str(), 0777) == 0);
  chmod(writable.c_str(), 0777);
  FilesystemView view{/*read_only_host=*/true, {writable}, /*private_tmp=*/true};
  SandboxBuilder builder = Base();
  builder.Program({"/bin/sh", "-c",
                   "touch " + writable + "/ok && echo named; "
                   "touch /var/tmp/tokenbox-ro-probe 2>/dev/null || echo host-read-only; "
                   "touch /tmp/tokenbox-private-probe && echo private-tmp"})
      .Filesystem(view);
  Outcome outcome = RunCaptured(std::move(builder));
  CHECK(outcome.out == "named\nhost-read-only\nprivate-tmp\n");
  CHECK(access((writable + "/ok").c_str(), F_OK) == 0);
  CHECK(access("/var/tmp/tokenbox-ro-probe", F_OK) != 0);
  CHECK(access("/tmp/tokenbox-private-probe", F_OK) != 0);  // It was the sandbox's own /tmp.
  unlink((writable + "/ok").c_str());
  rmdir(writable.c_str());
  CHECK_FALSE(Base().Program({"/bin/true"}).Filesystem({false, {"/tmp"}, false}).Build().ok());
  CHECK_FALSE(Base().Program({"/bin/true"}).Filesystem({true, {"relative"}, false}).Build().ok());
}

TEST_CASE("Resource limits reach the program") {
  TB_REQUIRE_PRIVILEGE();
  SandboxBuilder builder = Base();
  builder.Program({"/bin/sh", "-c", "ulimit -n"}).ResourceLimitOf(RLIMIT_NOFILE, 64, 128);
  CHECK(RunCaptured(std::move(builder)).out == "64\n");
}

TEST_CASE("A function runs inside the sandbox after set-up and uses the token with CAP_BPF alone") {
  TB_REQUIRE_PRIVILEGE();
  auto spec = Base()
                  .Function([]() -> int {
                    auto sandbox = CurrentSandbox();
                    if (!sandbox.ok()) return 10;
                    auto caps = ReadProcessCapabilities();
                    if (!caps.ok() || !(caps->effective == CapabilitySet::Of({CAP_BPF}))) return 11;
                    if (!testing::CreateMap(BPF_MAP_TYPE_ARRAY, sandbox->token_fd).ok()) return 12;
                    if (testing::CreateMap(BPF_MAP_TYPE_HASH, sandbox->token_fd).ok()) return 13;
                    if (testing::CreateMap(BPF_MAP_TYPE_ARRAY, testing::kNoToken).ok()) return 14;
                    return 42;
                  })
                  .Build();
  TB_REQUIRE_OK(spec);
  auto child = Launch(*spec);
  TB_REQUIRE_OK(child);
  CHECK(*child->Wait() == ExitStatus::Exited(42));
}

// With no execve, close-on-exec closes nothing: the function must still see only what a
// program would, in a pid namespace and without one.
TEST_CASE("A function sees only fds 0-2, the token and the passed fds") {
  TB_REQUIRE_PRIVILEGE();
  absl::StatusOr<Pipe> extra = MakePipe();
  TB_REQUIRE_OK(extra);
  UniqueFd inheritable(open("/dev/null", O_RDONLY));  // Not close-on-exec: must not get in.
  REQUIRE(inheritable);
  for (bool pid_namespace : {true, false}) {
    CAPTURE(pid_namespace);
    ExtraNamespaces namespaces;
    namespaces.pid = pid_namespace;
    auto spec = Base()
                    .Namespaces(namespaces)
                    .PassFd(extra->write_end.get(), 7)
                    .Function([]() -> int {
                      auto sandbox = CurrentSandbox();
                      if (!sandbox.ok()) return 10;
                      std::vector<int> expected = {0, 1, 2, sandbox->token_fd, 7};
                      std::sort(expected.begin(), expected.end());
                      std::vector<int> open = testing::OpenFds();
                      if (open == expected) return 0;
                      std::fprintf(stderr, "open fds: %s\n", absl::StrJoin(open, ",").c_str());
                      return 11;
                    })
                    .Build();
    TB_REQUIRE_OK(spec);
    auto child = Launch(*spec);
    TB_REQUIRE_OK(child);
    CHECK(*child->Wait() == ExitStatus::Exited(0));
  }
}

TEST_CASE("A new network namespace has loopback up; a new UTS namespace its own hostname") {
  TB_REQUIRE_PRIVILEGE();
  ExtraNamespaces namespaces;
  namespaces.net = true;
  namespaces.uts = true;
  SandboxBuilder builder = Base();
  // /proc/net is the caller's network namespace (/sys/class/net would be the host's sysfs).
  builder.Program({"/bin/sh", "-c", "grep -c : /proc/net/dev; grep -o 'lo:' /proc/net/dev; "
                                    "/usr/sbin/ip -o link show lo | grep -o '<.*>'; hostname"})
      .Namespaces(namespaces);
  Outcome outcome = RunCaptured(std::move(builder));
  std::vector<std::string> lines = absl::StrSplit(outcome.out, '\n', absl::SkipEmpty());
  INFO(outcome.out);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == "1");  // Only one interface: no host interface is visible.
  CHECK(lines[1] == "lo:");
  CHECK(lines[2].find(",UP,") != std::string::npos);
  CHECK(lines[3] == "tokenbox");
}

TEST_CASE("A sandbox outlives the thread that launched it (but not the process)") {
  TB_REQUIRE_PRIVILEGE();
  // PR_SET_PDEATHSIG follows the forking thread; tokenbox forks from a thread of its own.
  std::optional<Child> child;
  std::thread([&] {
    auto launched = Launch(*Base().Program({"/bin/sh", "-c", "sleep 0.3; exit 5"}).Build());
    REQUIRE(launched.ok());
    child.emplace(*std::move(launched));
  }).join();
  REQUIRE(child.has_value());
  CHECK(*child->Wait() == ExitStatus::Exited(5));
}

TEST_CASE("The sandbox dies with its launcher") {
  TB_REQUIRE_PRIVILEGE();
  // An intermediate launcher starts a sandbox, reports its pid, and is SIGKILLed. As subreaper
  // this test inherits the orphaned sandbox and sees how it ended.
  REQUIRE(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
  // Close-on-exec: the sandbox must not hold the write end, or a launcher that failed before
  // reporting would leave this test waiting instead of reading end-of-file.
  auto report = MakePipe();
  TB_REQUIRE_OK(report);
  pid_t launcher = fork();
  REQUIRE(launcher >= 0);
  if (launcher == 0) {
    auto spec = Base().Program({"/bin/sleep", "100"}).Build();
    if (!spec.ok()) _exit(1);
    auto child = Launch(*spec);
    if (!child.ok()) _exit(2);
    pid_t pid = child->pid();
    (void)!write(report->write_end.get(), &pid, sizeof(pid));
    pause();
    _exit(3);
  }
  report->write_end.Reset();
  pid_t sandbox = 0;
  REQUIRE(read(report->read_end.get(), &sandbox, sizeof(sandbox)) == sizeof(sandbox));
  report->read_end.Reset();
  kill(launcher, SIGKILL);
  int status = 0;
  REQUIRE(waitpid(launcher, &status, 0) == launcher);
  pid_t reaped = 0;
  for (int i = 0; i < 500 && reaped == 0; ++i) {
    reaped = waitpid(sandbox, &status, WNOHANG);
    if (reaped == 0) usleep(10000);
  }
  REQUIRE(reaped == sandbox);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  // As subreaper this test also inherited the sandbox's pid 1 when the supervisor died; it dies
  // by its own parent-death signal. Reap it, and anything else orphaned onto us.
  absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (absl::Now() < give_up) {
    pid_t orphan = waitpid(-1, nullptr, WNOHANG);
    if (orphan < 0) break;  // ECHILD: none left.
    if (orphan == 0) usleep(10000);
  }
  prctl(PR_SET_CHILD_SUBREAPER, 0);
}

TEST_CASE("200 launches leave no fd, mount or zombie behind") {
  TB_REQUIRE_PRIVILEGE();
  auto spec = Base().Program({"/bin/true"}).Build();
  auto failing = Base().Program({"/no/such/program"}).Build();
  TB_REQUIRE_OK(spec);
  TB_REQUIRE_OK(failing);
  const int fds_before = testing::CountOpenFds();
  const int mounts_before = testing::CountMounts();
  for (int i = 0; i < 200; ++i) {
    if (i % 10 == 9) {
      CHECK_FALSE(Launch(*failing).ok());
      continue;
    }
    auto child = Launch(*spec);
    REQUIRE_MESSAGE(child.ok(), child.status().ToString());
    REQUIRE(*child->Wait() == ExitStatus::Exited(0));
  }
  CHECK(testing::CountOpenFds() == fds_before);
  CHECK(testing::CountMounts() == mounts_before);
  errno = 0;
  CHECK(waitpid(-1, nullptr, WNOHANG) == -1);  // No child left, zombie or running.
  CHECK(errno == ECHILD);
}

TEST_CASE("The builder reports every inconsistency at Build(), not at launch") {
  auto nothing = SandboxBuilder().Build();
  REQUIRE_FALSE(nothing.ok());
  std::string message(nothing.status().message());
  CHECK(message.find("nothing to run") != std::string::npos);
  CHECK(message.find("delegates nothing") != std::string::npos);
  auto bad = SandboxBuilder()
                 .Program({"/bin/true"})
                 .Policy(DemoPolicy())
                 .BpffsPath("relative")
                 .WorkingDirectory("also/relative")
                 .Timeout(absl::ZeroDuration())
                 .ResourceLimitOf(RLIMIT_NOFILE, 10, 5)
                 .UidMap(*IdMap::Single(1, 1000))
                 .SetEnv("BAD=KEY", "x")
                 .PassFd(0, 5)
                 .PassFd(1, 5)
                 .Build();
  REQUIRE_FALSE(bad.ok());
  message = std::string(bad.status().message());
  for (const char* fault : {"bpffs path 'relative'", "working directory 'also/relative'",
                            "timeout 0 must be positive", "soft 10 exceeds hard 5",
                            "must map inside uid 0", "'BAD=KEY' is invalid",
                            "two fds are passed at fd 5"}) {
    INFO(fault);
    CHECK(message.find(fault) != std::string::npos);
  }
  ExtraNamespaces pid1_without_pid;
  pid1_without_pid.pid = false;
  pid1_without_pid.program_is_pid1 = true;
  CHECK_FALSE(Base().Program({"/bin/true"}).Namespaces(pid1_without_pid).Build().ok());
  // Paths the kernel would refuse half-way into set-up are refused here.
  FilesystemView view;
  view.read_only_host = true;
  view.writable_paths = {"/" + std::string(5000, 'w')};
  auto unusable = Base()
                      .Program({"/bin/true"})
                      .BpffsPath("/" + std::string(5000, 'b'))
                      .WorkingDirectory(std::string("/tmp\0x", 6))
                      .Filesystem(view)
                      .Build();
  REQUIRE_FALSE(unusable.ok());
  message = std::string(unusable.status().message());
  for (const char* fault : {"bpffs path '/bbb", "writable path '/www", "longer than PATH_MAX",
                            "working directory '/tmp\\x00x' contains a NUL byte"}) {
    INFO(fault);
    CHECK(message.find(fault) != std::string::npos);
  }
  CHECK(message.size() < 2000);  // Printable() cut the paths.
}

// A report that did not fit one message would be lost, and the closed socket would pass for a
// successful exec: the encoder cuts the message instead, and keeps the step, code and errno.
TEST_CASE("A set-up failure report too big for one message is cut, not lost") {
  absl::Status huge = ErrnoStatus(ENAMETOOLONG, std::string(3 * kMaxMessagePayload, 'x'));
  std::string encoded = EncodeSetupFailure("mount delegated bpffs", huge);
  CHECK(encoded.size() <= kMaxMessagePayload);
  absl::Status decoded = DecodeSetupFailure(encoded);
  CHECK(SetupStepOf(decoded) == "mount delegated bpffs");
  CHECK(ErrnoOf(decoded) == ENAMETOOLONG);
  CHECK(decoded.code() == huge.code());
  CHECK(absl::EndsWith(decoded.message(), "[cut to fit the set-up report]"));
  absl::Status small = ErrnoStatus(EPERM, "fsopen(\"bpf\")");
  CHECK(DecodeSetupFailure(EncodeSetupFailure("step", small)).message() ==
        absl::StrCat("sandbox set-up failed at 'step': ", small.message()));
}

TEST_CASE("A launcher without CAP_SYS_ADMIN in the initial user namespace is told so") {
  TB_REQUIRE_PRIVILEGE();
  absl::Status status = RunInChild([]() -> absl::Status {
    if (setresuid(1000, 1000, 1000) != 0) return ErrnoStatus(errno, "setresuid");
    auto spec = Base().Program({"/bin/true"}).Build();
    if (!spec.ok()) return spec.status();
    return Launch(*spec).status();
  });
  CHECK(SetupStepOf(status).empty());  // Payloads do not cross RunInChild; the text does.
  CHECK(std::string(status.message()).rfind("sandbox set-up failed at 'check privileges': uid 1000 "
                                            "lacks CAP_SYS_ADMIN", 0) == 0);
}

}  // namespace
}  // namespace tokenbox
