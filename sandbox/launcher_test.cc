// Real sandboxes, launched through Launch() and checked from outside and from inside: who the
// program is, how it ends, and that nothing outlives it.
#include "sandbox/launcher.h"

#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "ns/errno_status.h"
#include "ns/pipe.h"
#include "ns/run_in_child.h"
#include "tests/captured_run.h"
#include "tests/process_state.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::KeyValues;
using Outcome = ::tokenbox::testing::CapturedRun;
using ::tokenbox::testing::RunCaptured;

using ::tokenbox::testing::Built;

SandboxBuilder Base() { return testing::DemoSandbox(); }
CommandBuilder Run(std::vector<std::string> argv) { return testing::ProgramCommand(std::move(argv)); }

// pid 1 never execs: unless it closes them, it holds every fd of the launcher, close-on-exec or
// not, and a reader of a pipe the launcher held would see no end-of-file while the sandbox ran.
TEST_CASE("No process of the sandbox holds an fd of the launcher's it was not passed") {
  TB_REQUIRE_PRIVILEGE();
  for (testing::PidMode mode : testing::kEveryPidMode) {
    INFO(testing::PidModeName(mode));
    absl::StatusOr<Pipe> pipe = MakePipe();
    REQUIRE(pipe.ok());
    auto child = Launch(Built(testing::DemoSandbox(mode)), Built(Run({"/bin/sleep", "30"})));
    REQUIRE_MESSAGE(child.ok(), child.status().ToString());
    pipe->write_end.Reset();
    CHECK(testing::NoOtherWriter(pipe->read_end.get()));
    REQUIRE(child->Kill().ok());
    (void)child->Wait();
  }
}

TEST_CASE("The exec'd program holds exactly CAP_BPF in every set, locked, as a leased host uid") {
  TB_REQUIRE_PRIVILEGE();
  Outcome outcome = RunCaptured(Base(), Run({testing::InspectorPath()}));
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
  CHECK(testing::MapsRootToLeasedId(v["uid_map"]));
  CHECK(v["fds"] == "0,1,2,3");  // stdin, the captured stdout, stderr, the token.
  CHECK(v["TOKENBOX_TOKEN_FD"] == "3");
  CHECK(v["LIBBPF_BPF_TOKEN_PATH"] == "/sys/fs/bpf");
  CHECK(v["token"] == "ok");
}

TEST_CASE("Kept capabilities are added to CAP_BPF in every set, and nothing else is") {
  TB_REQUIRE_PRIVILEGE();
  SandboxBuilder sandbox = Base();
  sandbox.KeepCapabilities(CapabilitySet::Of({CAP_NET_ADMIN}));
  auto v = KeyValues(RunCaptured(sandbox, Run({testing::InspectorPath()})).out);
  const std::string bpf_and_net_admin = "0000008000001000";  // Bits 39 and 12.
  CHECK(v["CapEff"] == bpf_and_net_admin);
  CHECK(v["CapBnd"] == bpf_and_net_admin);
  CHECK(v["CapAmb"] == bpf_and_net_admin);
}

TEST_CASE("Outside, the running sandbox is the mapped unprivileged host user with no groups") {
  TB_REQUIRE_PRIVILEGE();
  SandboxBuilder sandbox = Base();
  sandbox.HostUser(4242).HostGroup(4343);
  auto child = Launch(Built(sandbox), Built(Run({"/bin/sleep", "30"})));
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

TEST_CASE("Exit codes and signals pass through, with and without a pid namespace") {
  TB_REQUIRE_PRIVILEGE();
  for (bool pid_ns : {false, true}) {
    INFO("pid namespace: ", pid_ns);
    NewNamespaces namespaces;
    namespaces.pid = pid_ns;
    SandboxBuilder sandbox = Base();
    sandbox.Namespaces(namespaces);
    CHECK(RunCaptured(sandbox, Run({"/bin/sh", "-c", "exit 42"})).status == ExitStatus::Exited(42));
    CHECK(RunCaptured(sandbox, Run({"/bin/sh", "-c", "kill -TERM $$; sleep 5"})).status ==
          ExitStatus::Signaled(SIGTERM));
  }
}

TEST_CASE("A timeout kills the whole sandbox, grandchildren included") {
  TB_REQUIRE_PRIVILEGE();
  for (bool pid_ns : {false, true}) {
    INFO("pid namespace: ", pid_ns);
    std::string marker = absl::StrCat("tokenbox_timeout_marker_", pid_ns, "_", getpid());
    NewNamespaces namespaces;
    namespaces.pid = pid_ns;
    SandboxBuilder sandbox = Base();
    sandbox.Namespaces(namespaces);
    CommandBuilder command;
    command.Program({"/bin/sh", "-c", absl::StrCat("sleep 100 ", marker, " & sleep 100"), marker})
        .Timeout(absl::Milliseconds(300));
    auto child = Launch(Built(sandbox), Built(command));
    TB_REQUIRE_OK(child);
    auto status = child->Wait();
    TB_REQUIRE_OK(status);
    CHECK(*status == ExitStatus::TimedOut());
    // Gone by the time Wait() returns: a pid namespace is torn down before its pid 1 can be
    // reaped, and without one the sandbox's cgroup is removed, which it can be only once every
    // process in it has exited.
    CHECK_FALSE(testing::ProcessWithArgument(marker));
  }
}

// Waiting late must not turn a child that ended in time into a timed-out one.
TEST_CASE("A sandbox that ended before its timeout is not reported as timed out when waited on late") {
  TB_REQUIRE_PRIVILEGE();
  CommandBuilder command;
  command.Program({"/bin/true"}).Timeout(absl::Milliseconds(300));
  auto child = Launch(Built(Base()), Built(command));
  TB_REQUIRE_OK(child);
  absl::SleepFor(absl::Milliseconds(600));
  CHECK(*child->Wait() == ExitStatus::Exited(0));
}

TEST_CASE("Kill() ends a running sandbox, and WaitFor() reports a timeout") {
  TB_REQUIRE_PRIVILEGE();
  Sandbox sandbox = Built(Base());
  Command sleeper = Built(Run({"/bin/sleep", "100"}));
  auto child = Launch(sandbox, sleeper);
  TB_REQUIRE_OK(child);
  TB_CHECK_OK(child->Kill());
  auto status = child->Wait();
  TB_REQUIRE_OK(status);
  CHECK(*status == ExitStatus::Signaled(SIGKILL));
  CHECK(child->resource_usage().has_value());
  auto again = Launch(sandbox, sleeper);
  TB_REQUIRE_OK(again);
  CHECK(*again->WaitFor(absl::Milliseconds(100)) == ExitStatus::TimedOut());
}

TEST_CASE("A sandbox outlives the thread that launched it (but not the process)") {
  TB_REQUIRE_PRIVILEGE();
  // PR_SET_PDEATHSIG follows the forking thread; tokenbox forks from a thread of its own.
  Sandbox sandbox = Built(Base());
  Command command = Built(Run({"/bin/sh", "-c", "sleep 0.3; exit 5"}));
  std::optional<Child> child;
  std::thread([&] {
    auto launched = Launch(sandbox, command);
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
  Sandbox sandbox = Built(Base());
  Command sleeper = Built(Run({"/bin/sleep", "100"}));
  pid_t launcher = fork();
  REQUIRE(launcher >= 0);
  if (launcher == 0) {
    auto child = Launch(sandbox, sleeper);
    if (!child.ok()) _exit(2);
    pid_t pid = child->pid();
    (void)!write(report->write_end.get(), &pid, sizeof(pid));
    pause();
    _exit(3);
  }
  report->write_end.Reset();
  pid_t sandbox_pid = 0;
  REQUIRE(read(report->read_end.get(), &sandbox_pid, sizeof(sandbox_pid)) == sizeof(sandbox_pid));
  report->read_end.Reset();
  kill(launcher, SIGKILL);
  int status = 0;
  REQUIRE(waitpid(launcher, &status, 0) == launcher);
  REQUIRE(testing::AwaitExit(sandbox_pid));
  REQUIRE(waitpid(sandbox_pid, &status, 0) == sandbox_pid);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  // As subreaper this test may also have inherited what a killed sandbox left orphaned, which
  // its pid namespace ended before its pid 1 could be reaped: reap it.
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  prctl(PR_SET_CHILD_SUBREAPER, 0);
}

TEST_CASE("200 launches leave no fd, mount or zombie behind") {
  TB_REQUIRE_PRIVILEGE();
  Sandbox sandbox = Built(Base());
  Command fine = Built(Run({"/bin/true"}));
  Command failing = Built(Run({"/no/such/program"}));
  const int fds_before = testing::CountOpenFds();
  const int mounts_before = testing::CountMounts();
  for (int i = 0; i < 200; ++i) {
    if (i % 10 == 9) {
      CHECK_FALSE(Launch(sandbox, failing).ok());
      continue;
    }
    auto child = Launch(sandbox, fine);
    REQUIRE_MESSAGE(child.ok(), child.status().ToString());
    REQUIRE(*child->Wait() == ExitStatus::Exited(0));
  }
  CHECK(testing::CountOpenFds() == fds_before);
  CHECK(testing::CountMounts() == mounts_before);
  errno = 0;
  CHECK(waitpid(-1, nullptr, WNOHANG) == -1);  // No child left, zombie or running.
  CHECK(errno == ECHILD);
}

TEST_CASE("Launch() refuses a command meant for a fork server, and starts nothing") {
  auto command = CommandBuilder().ForkServerFunction().Build();
  TB_REQUIRE_OK(command);
  auto child = Launch(Built(Base()), *command);
  REQUIRE_FALSE(child.ok());
  CHECK(std::string(child.status().message()).find("ForkServer::Launch()") != std::string::npos);
  errno = 0;
  CHECK(waitpid(-1, nullptr, WNOHANG) == -1);
  CHECK(errno == ECHILD);
}

// Without CAP_SYS_ADMIN in the initial user namespace, Launch() asks tokenboxd; with none
// listening, it says so, and what to do.
TEST_CASE("A launcher without CAP_SYS_ADMIN asks tokenboxd, and says what to do when none answers") {
  TB_REQUIRE_PRIVILEGE();
  Sandbox sandbox = Built(Base());
  Command command = Built(Run({"/bin/true"}));
  LaunchOptions options;
  options.service_socket = "/nonexistent/tokenboxd.sock";
  absl::Status status = RunInChild([&]() -> absl::Status {
    if (setresuid(1000, 1000, 1000) != 0) return ErrnoStatus(errno, "setresuid");
    return Launch(sandbox, command, options).status();
  });
  CHECK_FALSE(SetupStepOf(status).has_value());  // Payloads do not cross RunInChild; the text does.
  CHECK(std::string(status.message()).rfind("sandbox set-up failed at 'ask tokenboxd': "
                                            "connect(/nonexistent/tokenboxd.sock): ENOENT", 0) == 0);
  CHECK(std::string(status.message()).find("CAP_SYS_ADMIN in the initial user namespace") !=
        std::string::npos);
}

}  // namespace
}  // namespace tokenbox
