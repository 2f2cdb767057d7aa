// What the child sets up before the program runs, seen from inside: the bpffs and token, fds,
// environment, working directory, pid namespace, filesystem view, limits and namespaces, and
// how each step names its failure.
#include "sandbox/child/child_setup.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ns/errno_status.h"
#include "ns/pipe.h"
#include "ns/unique_fd.h"
#include "sandbox/fork_server.h"
#include "sandbox/inside.h"
#include "sandbox/launcher.h"
#include "tests/bpf_ops.h"
#include "tests/captured_run.h"
#include "tests/process_state.h"
#include "tests/test_support.h"
#include "token/process_capabilities.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::Built;
using ::tokenbox::testing::KeyValues;
using ::tokenbox::testing::RunCaptured;
using Outcome = ::tokenbox::testing::CapturedRun;

SandboxBuilder Base() { return testing::DemoSandbox(); }
CommandBuilder Run(std::vector<std::string> argv) { return testing::ProgramCommand(std::move(argv)); }

TEST_CASE("With the bpffs elsewhere or nowhere, the environment says so") {
  TB_REQUIRE_PRIVILEGE();
  SandboxBuilder elsewhere = Base();
  elsewhere.BpffsPath("/mnt");
  CHECK(KeyValues(RunCaptured(elsewhere, Run({testing::InspectorPath()})).out)
            ["LIBBPF_BPF_TOKEN_PATH"] == "/mnt");
  SandboxBuilder nowhere = Base();
  nowhere.NoBpffs();
  CommandBuilder stale = Run({testing::InspectorPath()});
  stale.SetEnv(kLibbpfTokenPathEnv, "/stale");
  auto v = KeyValues(RunCaptured(nowhere, stale).out);
  CHECK(v["LIBBPF_BPF_TOKEN_PATH"] == "(unset)");
  CHECK(v["token"] == "ok");
}

TEST_CASE("Passed fds arrive at their numbers and nothing else leaks in") {
  TB_REQUIRE_PRIVILEGE();
  auto extra = MakePipe();
  TB_REQUIRE_OK(extra);
  UniqueFd unrelated(open("/dev/null", O_RDONLY));  // Not close-on-exec: must not get in anyway.
  CommandBuilder command = Run({testing::InspectorPath()});
  command.PassFd(extra->write_end.get(), 7);
  auto v = KeyValues(RunCaptured(Base(), command).out);
  CHECK(v["fds"] == "0,1,2,3,7");
}

TEST_CASE("The environment is inherited, set, unset or cleared as asked; cwd is applied") {
  TB_REQUIRE_PRIVILEGE();
  setenv("TOKENBOX_TEST_INHERITED", "yes", 1);
  CommandBuilder command = Run({"/bin/sh", "-c", "echo inherited=$TOKENBOX_TEST_INHERITED "
                                                 "set=$SET_ME gone=${HOME:-none} cwd=$(pwd)"});
  command.SetEnv("SET_ME", "value with spaces").UnsetEnv("HOME").WorkingDirectory("/usr");
  Outcome outcome = RunCaptured(Base(), command);
  CHECK(outcome.out == "inherited=yes set=value with spaces gone=none cwd=/usr\n");
  CommandBuilder cleared = Run({"/usr/bin/env"});
  cleared.SetEnv("ONLY", "this").ClearEnvironment();
  outcome = RunCaptured(Base(), cleared);
  CHECK(outcome.out == "ONLY=this\nTOKENBOX_TOKEN_FD=3\nLIBBPF_BPF_TOKEN_PATH=/sys/fs/bpf\n");
}

// Changes the test's working directory, and back when it goes out of scope.
class WorkingDirectory {
 public:
  explicit WorkingDirectory(const std::string& dir) {
    REQUIRE(getcwd(previous_, sizeof(previous_)) != nullptr);
    REQUIRE(chdir(dir.c_str()) == 0);
  }
  ~WorkingDirectory() { (void)!chdir(previous_); }

 private:
  char previous_[PATH_MAX];
};

// The launcher's working directory as an open reference would let the sandbox read below a
// directory its user may not enter (a 0700 directory of root's), whatever its view.
TEST_CASE("Launched from a root-only directory, the program starts in / and cannot reach below it") {
  TB_REQUIRE_PRIVILEGE();
  testing::StagedFiles files;
  const std::string secret_dir = files.path("root-only");
  REQUIRE(mkdir(secret_dir.c_str(), 0700) == 0);
  REQUIRE(chmod(secret_dir.c_str(), 0700) == 0);
  files.Write("root-only/secret", "the launcher's secret\n", 0644);
  auto server = ForkServer::Start(Built(Base()));
  TB_REQUIRE_OK(server);
  WorkingDirectory inside_secret(secret_dir);
  // Each command is built here, so the launcher's directory it records is the secret one.
  CommandBuilder attack = Run({"/bin/sh", "-c", "pwd; cat secret ./secret 2>/dev/null || echo unreadable"});
  // Bound in by name, the directory keeps its owner and mode: a bind grants no access.
  SandboxBuilder bound = Base();
  bound.ReadOnlyBind(secret_dir, secret_dir);
  for (const SandboxBuilder& sandbox : {Base(), bound}) {
    CHECK(RunCaptured(sandbox, attack).out == "/\nunreadable\n");
  }
  Outcome forked = testing::RunCaptured(
      attack, [&](const Command& run) { return (*server)->Launch(run); });
  CHECK(forked.out == "/\nunreadable\n");
}

// What the default gives back: a directory the sandbox's user may enter is where it starts.
TEST_CASE("Launched from a directory the sandbox's user may enter, the program starts there") {
  TB_REQUIRE_PRIVILEGE();
  WorkingDirectory shared("/usr/share");
  CHECK(Built(Run({"/bin/pwd"})).launcher_directory() == "/usr/share");
  CHECK(RunCaptured(Base(), Run({"/bin/pwd"})).out == "/usr/share\n");
}

TEST_CASE("In a pid namespace the program is pid 2 under a tiny init, or pid 1 if asked") {
  TB_REQUIRE_PRIVILEGE();
  // The shell counts /proc's pids by a glob it expands itself: a pipeline (ls | grep -c) raced,
  // since ls could read /proc before the shell had forked grep.
  CHECK(RunCaptured(Base(), Run({"/bin/sh", "-c", "echo $$; set -- /proc/[0-9]*; echo $#"})).out ==
        "2\n2\n");  // init and sh, nothing else.
  SandboxBuilder pid1 = Base();
  pid1.ProgramAsPid1();
  CHECK(RunCaptured(pid1, Run({"/bin/sh", "-c", "echo $$"})).out == "1\n");
}

TEST_CASE("Set-up failures name their step, syscall and errno") {
  TB_REQUIRE_PRIVILEGE();
  SandboxBuilder missing_dir = Base();
  missing_dir.BpffsPath("/no/such/dir");
  auto child = Launch(Built(missing_dir), Built(Run({"/bin/true"})));
  REQUIRE_FALSE(child.ok());
  CHECK(SetupStepOf(child.status()) == SetupStep::kMountDelegatedBpffs);
  CHECK(ErrnoOf(child.status()) == ENOENT);
  CHECK(std::string(child.status().message())
            .rfind("sandbox set-up failed at 'mount delegated bpffs': ", 0) == 0);

  Sandbox sandbox = Built(Base());
  auto missing = Launch(sandbox, Built(Run({"/no/such/program"})));
  CHECK(SetupStepOf(missing.status()) == SetupStep::kExec);
  CHECK(ErrnoOf(missing.status()) == ENOENT);
  CHECK(std::string(missing.status().message()).find("program not found") != std::string::npos);

  std::string no_exec_bit = testing::InspectorStage().Write("no_exec_bit", "#!/bin/sh\n", 0644);
  auto denied = Launch(sandbox, Built(Run({no_exec_bit})));
  CHECK(SetupStepOf(denied.status()) == SetupStep::kExec);
  CHECK(ErrnoOf(denied.status()) == EACCES);

  std::string script = testing::InspectorStage().Write("no_shebang", "echo this is not a binary\n", 0755);
  auto not_binary = Launch(sandbox, Built(Run({script})));
  CHECK(SetupStepOf(not_binary.status()) == SetupStep::kExec);
  CHECK(ErrnoOf(not_binary.status()) == ENOEXEC);
}

TEST_CASE("A bad rlimit and a missing working directory fail at their steps") {
  TB_REQUIRE_PRIVILEGE();
  Sandbox sandbox = Built(Base());
  CommandBuilder raise_hard = Run({"/bin/true"});
  raise_hard.ResourceLimitOf(RLIMIT_NOFILE, 1 << 30, 1 << 30);
  auto child = Launch(sandbox, Built(raise_hard));
  CHECK(SetupStepOf(child.status()) == SetupStep::kSetResourceLimits);
  CHECK(ErrnoOf(child.status()) == EPERM);
  CommandBuilder bad_dir = Run({"/bin/true"});
  bad_dir.WorkingDirectory("/no/such/dir");
  auto no_dir = Launch(sandbox, Built(bad_dir));
  CHECK(SetupStepOf(no_dir.status()) == SetupStep::kChangeDirectory);
  CHECK(ErrnoOf(no_dir.status()) == ENOENT);
}

TEST_CASE("Resource limits reach the program") {
  TB_REQUIRE_PRIVILEGE();
  CommandBuilder command = Run({"/bin/sh", "-c", "ulimit -n"});
  command.ResourceLimitOf(RLIMIT_NOFILE, 64, 128);
  CHECK(RunCaptured(Base(), command).out == "64\n");
}

TEST_CASE("A function runs inside the sandbox after set-up and uses the token with CAP_BPF alone") {
  TB_REQUIRE_PRIVILEGE();
  CommandBuilder command;
  command.Function([]() -> int {
    auto sandbox = CurrentSandbox();
    if (!sandbox.ok()) return 10;
    auto caps = ReadProcessCapabilities();
    if (!caps.ok() || !(caps->effective == CapabilitySet::Of({CAP_BPF}))) return 11;
    if (!testing::CreateMap(BPF_MAP_TYPE_ARRAY, sandbox->token_fd).ok()) return 12;
    if (testing::CreateMap(BPF_MAP_TYPE_HASH, sandbox->token_fd).ok()) return 13;
    if (testing::CreateMap(BPF_MAP_TYPE_ARRAY, testing::kNoToken).ok()) return 14;
    return 42;
  });
  auto child = Launch(Built(Base()), Built(command));
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
    NewNamespaces namespaces;
    namespaces.pid = pid_namespace;
    SandboxBuilder sandbox = Base();
    sandbox.Namespaces(namespaces);
    CommandBuilder command;
    command.PassFd(extra->write_end.get(), 7).Function([]() -> int {
      auto inside = CurrentSandbox();
      if (!inside.ok()) return 10;
      std::vector<int> expected = {0, 1, 2, inside->token_fd, 7};
      std::sort(expected.begin(), expected.end());
      std::vector<int> open = testing::OpenFds();
      if (open == expected) return 0;
      std::fprintf(stderr, "open fds: %s\n", absl::StrJoin(open, ",").c_str());
      return 11;
    });
    auto child = Launch(Built(sandbox), Built(command));
    TB_REQUIRE_OK(child);
    CHECK(*child->Wait() == ExitStatus::Exited(0));
  }
}

TEST_CASE("A new network namespace has loopback up; a new UTS namespace its own hostname") {
  TB_REQUIRE_PRIVILEGE();
  NewNamespaces namespaces;
  namespaces.net = true;
  namespaces.uts = true;
  SandboxBuilder sandbox = Base();
  sandbox.Namespaces(namespaces);
  // /proc/net is the caller's network namespace (/sys/class/net would be the host's sysfs).
  Outcome outcome = RunCaptured(
      sandbox, Run({"/bin/sh", "-c", "grep -c : /proc/net/dev; grep -o 'lo:' /proc/net/dev; "
                                     "/usr/sbin/ip -o link show lo | grep -o '<.*>'; hostname"}));
  std::vector<std::string> lines = absl::StrSplit(outcome.out, '\n', absl::SkipEmpty());
  INFO(outcome.out);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == "1");  // Only one interface: no host interface is visible.
  CHECK(lines[1] == "lo:");
  CHECK(lines[2].find(",UP,") != std::string::npos);
  CHECK(lines[3] == "tokenbox");
}

}  // namespace
}  // namespace tokenbox
