#include "sandbox/fork_server.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ns/errno_status.h"
#include "ns/pipe.h"
#include "sandbox/inside.h"
#include "tests/bpf_ops.h"
#include "tests/captured_run.h"
#include "tests/command_runner.h"
#include "tests/process_state.h"
#include "tests/test_support.h"
#include "token/process_capabilities.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::Built;
using ::tokenbox::testing::KeyValues;

std::unique_ptr<ForkServer> StartServer() {
  auto server = ForkServer::Start(Built(testing::DemoSandbox()));
  REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  return *std::move(server);
}

std::unique_ptr<ForkServer> StartServerWithoutPidNamespace() {
  NewNamespaces no_pid;
  no_pid.pid = false;
  SandboxBuilder sandbox = testing::DemoSandbox();
  sandbox.Namespaces(no_pid);
  auto server = ForkServer::Start(Built(sandbox));
  REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  return *std::move(server);
}

// A launch through `server` with its stdout captured.
testing::CapturedRun RunCaptured(ForkServer& server, CommandBuilder command) {
  return testing::RunCaptured(std::move(command),
                              [&server](const Command& run) { return server.Launch(run); });
}

CommandBuilder LaunchOf(std::vector<std::string> argv) {
  return testing::ProgramCommand(std::move(argv));
}

// The zygote never execs, nor does each launch's pid 1: unless they close them, they hold every
// fd the launcher had when the fork server started, and a reader of a pipe the launcher held
// would see no end-of-file while the server ran.
TEST_CASE("Neither the zygote nor a launch holds an fd of the launcher's it was not passed") {
  TB_REQUIRE_PRIVILEGE();
  absl::StatusOr<Pipe> before_start = MakePipe();
  REQUIRE(before_start.ok());
  std::unique_ptr<ForkServer> server = StartServer();
  absl::StatusOr<Pipe> before_launch = MakePipe();
  REQUIRE(before_launch.ok());
  auto child = server->Launch(Built(testing::ProgramCommand({"/bin/sleep", "30"})));
  REQUIRE_MESSAGE(child.ok(), child.status().ToString());
  for (Pipe* pipe : {&*before_start, &*before_launch}) {
    pipe->write_end.Reset();
    CHECK(testing::NoOtherWriter(pipe->read_end.get()));
  }
  REQUIRE(child->Kill().ok());
  (void)child->Wait();
}

TEST_CASE("A fork-server launch reaches the same end state as a direct launch") {
  TB_REQUIRE_PRIVILEGE();
  auto server = StartServer();
  auto [status, out] = RunCaptured(*server, LaunchOf({testing::InspectorPath()}));
  INFO(out);
  CHECK(status == ExitStatus::Exited(0));
  auto v = KeyValues(out);
  CHECK(v["CapEff"] == "0000008000000000");
  CHECK(v["CapBnd"] == "0000008000000000");
  CHECK(v["CapAmb"] == "0000008000000000");
  CHECK(v["NoNewPrivs"] == "1");
  CHECK(v["securebits"] == "0xf");
  CHECK(testing::MapsRootToLeasedId(v["uid_map"]));
  CHECK(v["fds"] == "0,1,2,3");
  CHECK(v["token"] == "ok");
}

TEST_CASE("Each launch gets its own argv, environment, working directory, rlimits and fds") {
  TB_REQUIRE_PRIVILEGE();
  auto server = StartServer();
  CommandBuilder first = LaunchOf({"/bin/sh", "-c", "echo $WHO $(pwd) $(ulimit -n) $1", "sh", "one"});
  first.SetEnv("WHO", "first").WorkingDirectory("/usr").ResourceLimitOf(RLIMIT_NOFILE, 50, 50);
  CHECK(RunCaptured(*server, std::move(first)).out == "first /usr 50 one\n");
  CommandBuilder second = LaunchOf({"/bin/sh", "-c", "echo ${WHO:-nobody} $(pwd) $1; ls /proc/self/fd | tr '\\n' ' '", "sh", "two"});
  second.UnsetEnv("WHO").WorkingDirectory("/");
  auto [status, out] = RunCaptured(*server, std::move(second));
  CHECK(status == ExitStatus::Exited(0));
  CHECK(out.rfind("nobody / two\n", 0) == 0);
  // fds of the ls process: 0 1 2, the token 3, and ls's own directory fd.
  CHECK(out.substr(13) == "0 1 2 3 4 ");
}

TEST_CASE("Launches are separate processes: their own pid, process group and passed fds") {
  TB_REQUIRE_PRIVILEGE();
  auto server = StartServer();
  absl::StatusOr<Pipe> extra = MakePipe();
  TB_REQUIRE_OK(extra);
  const std::vector<std::string> has_fd_9 = {"/bin/sh", "-c",
                                             "test -e /proc/self/fd/9 && echo yes || echo no"};
  CommandBuilder with_fd = LaunchOf(has_fd_9);
  with_fd.PassFd(extra->write_end.get(), 9);
  CHECK(RunCaptured(*server, std::move(with_fd)).out == "yes\n");
  CHECK(RunCaptured(*server, LaunchOf(has_fd_9)).out == "no\n");
  Command sleeper = Built(LaunchOf({"/bin/sleep", "30"}));
  auto a = server->Launch(sleeper);
  auto b = server->Launch(sleeper);
  TB_REQUIRE_OK(a);
  TB_REQUIRE_OK(b);
  CHECK(a->pid() != b->pid());
  CHECK(getpgid(a->pid()) == a->pid());
  CHECK(getpgid(b->pid()) == b->pid());
  // The launcher is their parent (not the zygote), so it waits on them directly.
  CHECK(testing::ReadProcessStat(a->pid())->ppid == getpid());
  TB_CHECK_OK(a->Kill());
  CHECK(*a->Wait() == ExitStatus::Signaled(SIGKILL));
  CHECK(*b->WaitFor(absl::Milliseconds(10)) == ExitStatus::TimedOut());
}

TEST_CASE("A fork-server launch reports exec failures with their step, and times out") {
  TB_REQUIRE_PRIVILEGE();
  auto server = StartServer();
  auto failed = server->Launch(Built(LaunchOf({"/no/such/program"})));
  REQUIRE_FALSE(failed.ok());
  CHECK(SetupStepOf(failed.status()) == SetupStep::kExec);
  CHECK(ErrnoOf(failed.status()) == ENOENT);
  CommandBuilder slow = LaunchOf({"/bin/sleep", "30"});
  slow.Timeout(absl::Milliseconds(200));
  auto child = server->Launch(Built(slow));
  TB_REQUIRE_OK(child);
  CHECK(*child->Wait() == ExitStatus::TimedOut());
  // The server still works after both.
  CHECK(*server->Launch(Built(LaunchOf({"/bin/true"})))->Wait() == ExitStatus::Exited(0));
}

TEST_CASE("A fork server started with a function runs it in each launch") {
  TB_REQUIRE_PRIVILEGE();
  ForkServerOptions options;
  options.function = []() -> int {
    auto inside = CurrentSandbox();
    if (!inside.ok()) return 10;
    auto caps = ReadProcessCapabilities();
    if (!caps.ok() || !(caps->effective == CapabilitySet::Of({CAP_BPF}))) return 11;
    if (!testing::CreateMap(BPF_MAP_TYPE_ARRAY, inside->token_fd).ok()) return 12;
    const char* round = getenv("ROUND");
    return round ? atoi(round) : 13;
  };
  auto server = ForkServer::Start(Built(testing::DemoSandbox()), options);
  TB_REQUIRE_OK(server);
  for (int round = 1; round <= 3; ++round) {
    CommandBuilder launch;
    launch.ForkServerFunction().SetEnv("ROUND", std::to_string(round));
    auto child = (*server)->Launch(Built(launch));
    TB_REQUIRE_OK(child);
    CHECK(*child->Wait() == ExitStatus::Exited(round));
  }
}

TEST_CASE("Without a function at start, a function launch is refused clearly") {
  TB_REQUIRE_PRIVILEGE();
  auto server = StartServer();
  for (CommandBuilder launch : {CommandBuilder().ForkServerFunction(),
                                CommandBuilder().Function([] { return 0; })}) {
    auto child = server->Launch(Built(launch));
    REQUIRE_FALSE(child.ok());
    CHECK(std::string(child.status().message()).find("cannot be carried") != std::string::npos);
  }
}

TEST_CASE("The zygote goes away with its fork server") {
  TB_REQUIRE_PRIVILEGE();
  pid_t zygote;
  {
    auto server = StartServer();
    zygote = server->zygote_pid();
    CHECK(kill(zygote, 0) == 0);
  }
  CHECK(kill(zygote, 0) != 0);
  errno = 0;
  CHECK(waitpid(-1, nullptr, WNOHANG) == -1);
  CHECK(errno == ECHILD);
}

TEST_CASE("200 fork-server launches from 4 threads leave no fd or child behind") {
  TB_REQUIRE_PRIVILEGE();
  const int fds_before = testing::CountOpenFds();
  {
    auto server = StartServer();
    Command command = Built(LaunchOf({"/bin/true"}));
    std::atomic<int> clean{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 50; ++i) {
          auto child = server->Launch(command);
          if (child.ok() && child->Wait().value_or(ExitStatus::TimedOut()) == ExitStatus::Exited(0)) {
            ++clean;
          }
        }
      });
    }
    for (auto& thread : threads) thread.join();
    CHECK(clean == 200);
  }
  CHECK(testing::CountOpenFds() == fds_before);
  errno = 0;
  CHECK(waitpid(-1, nullptr, WNOHANG) == -1);
  CHECK(errno == ECHILD);
}

// A launch that prints its own pid, whether its /proc shows `other` (a pid in the launcher's
// namespace), and whether it can signal it.
std::vector<std::string> ReportPidsAndSignal(pid_t other) {
  return {"/bin/sh", "-c",
          absl::StrCat("echo $$; test -e /proc/", other, " && echo visible || echo invisible; ",
                       "kill -0 ", other, " 2>/dev/null && echo reached || echo unreachable")};
}

TEST_CASE("Each fork-server launch has its own pid namespace: siblings cannot see or signal each other") {
  TB_REQUIRE_PRIVILEGE();
  auto server = StartServer();  // The default spec asks for a pid namespace.
  auto sibling = server->Launch(Built(LaunchOf({"/bin/sleep", "30"})));
  TB_REQUIRE_OK(sibling);
  for (pid_t other : {sibling->pid(), server->zygote_pid(), getpid()}) {
    auto [status, out] = RunCaptured(*server, LaunchOf(ReportPidsAndSignal(other)));
    INFO(out);
    CHECK(status == ExitStatus::Exited(0));
    CHECK(out == "2\ninvisible\nunreachable\n");  // pid 2, under a tiny init.
  }
  TB_CHECK_OK(sibling->Kill());
  CHECK(*sibling->Wait() == ExitStatus::Signaled(SIGKILL));
}

// The documented cost of turning the pid namespace off: launches share the launcher's, and with
// it a view of their siblings and the zygote, which run as the same host user.
TEST_CASE("Without a pid namespace, fork-server launches share the launcher's, each in its own group") {
  TB_REQUIRE_PRIVILEGE();
  std::unique_ptr<ForkServer> server = StartServerWithoutPidNamespace();
  auto [status, out] = RunCaptured(*server, LaunchOf(ReportPidsAndSignal(server->zygote_pid())));
  INFO(out);
  CHECK(status == ExitStatus::Exited(0));
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  REQUIRE(lines.size() == 3);
  CHECK(std::stoi(lines[0]) > 2);
  CHECK(lines[1] == "visible");
  CHECK(lines[2] == "reached");
}

// Through a fork server without a pid namespace, a process that leaves its launch's process
// group would run on after that launch ended or timed out, until the fork server ended: each
// such launch has a cgroup of its own below the fork server's, removed with it.
TEST_CASE("Without a pid namespace, what a launch leaves behind ends with it, not with the server") {
  TB_REQUIRE_PRIVILEGE();
  std::unique_ptr<ForkServer> server = StartServerWithoutPidNamespace();
  for (bool timed_out : {false, true}) {
    CAPTURE(timed_out);
    // An argument no other process has: sleep takes fractional seconds.
    const std::string marker = absl::StrCat("9", getpid(), ".", timed_out ? "25" : "5");
    auto input = MakePipe();
    TB_REQUIRE_OK(input);
    // The escapee leaves the launch's process group and session; the shell waits for its stdin.
    CommandBuilder command =
        LaunchOf({"/bin/sh", "-c", absl::StrCat("setsid /bin/sleep ", marker, " & read line")});
    command.PassFd(input->read_end.get(), 0);
    if (timed_out) command.Timeout(absl::Milliseconds(500));
    auto child = server->Launch(Built(command));
    TB_REQUIRE_OK(child);
    input->read_end.Reset();
    bool escaped = false;
    for (absl::Time give_up = absl::Now() + absl::Seconds(10); !escaped && absl::Now() < give_up;
         absl::SleepFor(absl::Milliseconds(10))) {
      escaped = testing::ProcessWithArgument(marker);
    }
    REQUIRE(escaped);
    if (!timed_out) input->write_end.Reset();  // The shell reads end-of-file and exits.
    CHECK(*child->Wait() == (timed_out ? ExitStatus::TimedOut() : ExitStatus::Exited(1)));
    CHECK_FALSE(testing::ProcessWithArgument(marker));
  }
  // The fork server serves on.
  CHECK(*server->Launch(Built(LaunchOf({"/bin/true"})))->Wait() == ExitStatus::Exited(0));
}

}  // namespace
}  // namespace tokenbox
