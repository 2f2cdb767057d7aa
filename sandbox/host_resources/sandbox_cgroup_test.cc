// The sandbox's cgroup limits against programs that attack them, from inside: a fork bomb, BPF
// maps that pin kernel memory, a busy loop; what giving a limit up gives back; and that the
// cgroups are gone after the sandbox, also after a SIGKILLed launcher. This machine has the
// hybrid layout, so the limits run on cgroup v1 here.
#include "sandbox/host_resources/sandbox_cgroup.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "ns/pipe.h"
#include "sandbox/host_resources/cgroup_hierarchy.h"
#include "sandbox/inside.h"
#include "sandbox/launcher.h"
#include "tests/captured_run.h"
#include "tests/command_runner.h"
#include "tests/process_state.h"
#include "tests/test_support.h"

extern char** environ;

namespace tokenbox {
namespace {

using ::tokenbox::testing::RunCaptured;

// Runs `function` in `sandbox`; what it printed.
std::string Printed(SandboxBuilder sandbox, std::function<int()> function) {
  CommandBuilder command;
  command.Function(std::move(function)).Timeout(absl::Seconds(60));
  return RunCaptured(std::move(sandbox), std::move(command)).out;
}

int Print(const std::string& text) {
  return write(STDOUT_FILENO, text.data(), text.size()) == static_cast<ssize_t>(text.size()) ? 0
                                                                                             : 1;
}

// From inside: starts sleepers until the kernel refuses one (or `most` run); prints how many.
// posix_spawn does not copy the page tables, so thousands stay cheap.
int SpawnUntilRefused(int most) {
  int started = 0;
  char sleep_path[] = "/bin/sleep";
  char forever[] = "1000";
  char* argv[] = {sleep_path, forever, nullptr};
  while (started < most) {
    pid_t pid;
    if (posix_spawn(&pid, sleep_path, nullptr, nullptr, argv, environ) != 0) break;
    ++started;
  }
  return Print(absl::StrCat(started, "\n"));  // The pid namespace ends the sleepers.
}

TEST_CASE("A fork bomb is bounded by the default pids limit; a lower limit bounds it lower") {
  TB_REQUIRE_PRIVILEGE();
  const int by_default = std::stoi(Printed(testing::DemoSandbox(), [] {
    return SpawnUntilRefused(6000);
  }));
  // The tiny init and the program count too.
  CHECK(by_default <= static_cast<int>(CgroupLimits::kDefaultPidsMax) - 2);
  CHECK(by_default > 1000);
  SandboxBuilder low = testing::DemoSandbox();
  low.PidsMax(40);
  CHECK(std::stoi(Printed(low, [] { return SpawnUntilRefused(200); })) <= 38);
  // What --pids-max=max gives up: nothing bounds the bomb but the machine.
  SandboxBuilder unlimited = testing::DemoSandbox();
  unlimited.PidsMax(std::nullopt);
  CHECK(Printed(unlimited, [] { return SpawnUntilRefused(200); }) == "200\n");
}

// From inside: array maps of 1 MiB each, made with the token and kept, until the kernel refuses
// one (or `most` exist); prints how many, and the errno of the refusal.
int PinMapsUntilRefused(int most) {
  absl::StatusOr<SandboxEnvironment> inside = CurrentSandbox();
  if (!inside.ok()) return 10;
  LIBBPF_OPTS(bpf_map_create_opts, opts);
  opts.map_flags = BPF_F_TOKEN_FD;
  opts.token_fd = inside->token_fd;
  int made = 0;
  int refusal = 0;
  for (; made < most; ++made) {
    if (bpf_map_create(BPF_MAP_TYPE_ARRAY, "pinned", 4, 4096, 256, &opts) < 0) {
      refusal = errno;
      break;
    }
  }
  return Print(absl::StrCat(made, " ", refusal, "\n"));
}

TEST_CASE("BPF maps count against the memory limit: map creation fails inside it, the host is unaffected") {
  TB_REQUIRE_PRIVILEGE();
  SandboxBuilder limited = testing::DemoSandbox();
  limited.MemoryMax(96 << 20);
  const std::string out = Printed(limited, [] { return PinMapsUntilRefused(192); });
  INFO(out);
  const int made = std::stoi(out);
  CHECK(made < 96);
  CHECK(made > 10);
  CHECK(out.substr(out.find(' ') + 1) == absl::StrCat(ENOMEM, "\n"));
  // The host makes the same map at once.
  int host_map = bpf_map_create(BPF_MAP_TYPE_ARRAY, "host", 4, 4096, 256, nullptr);
  CHECK(host_map >= 0);
  close(host_map);
  // Without the limit the same program pins twice as much.
  CHECK(Printed(testing::DemoSandbox(), [] { return PinMapsUntilRefused(192); }) == "192 0\n");
}

// The directories of the cgroups tokenbox made for the sandboxes of launcher `pid` in the
// hierarchy of `controller` (a v1 hierarchy of its own, or cgroup2).
std::vector<std::string> SandboxCgroupsOf(pid_t pid, const char* controller) {
  std::vector<std::string> found;
  absl::StatusOr<CgroupHierarchy> hierarchy = CgroupLayout::Read().ControllerHierarchy(controller);
  if (!hierarchy.ok()) return found;
  const std::string parent = hierarchy->LauncherDirectory();
  if (DIR* dir = opendir(parent.c_str())) {
    const std::string prefix = absl::StrCat("tokenbox-", pid, "-");
    while (dirent* entry = readdir(dir)) {
      if (std::string(entry->d_name).rfind(prefix, 0) == 0) {
        found.push_back(absl::StrCat(parent, "/", entry->d_name));
      }
    }
    closedir(dir);
  }
  return found;
}

// The value of `key` in a flat-keyed cgroup file such as cpu.stat, or -1.
int64_t CgroupStat(const std::string& file, absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(testing::ReadProcFile(file), '\n')) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    int64_t value = 0;
    if (fields.size() == 2 && fields[0] == key && absl::SimpleAtoi(fields[1], &value)) return value;
  }
  return -1;
}

TEST_CASE("The CPU limit throttles a busy program to its share") {
  TB_REQUIRE_PRIVILEGE();
  // Inside: spins until it has had 150 ms of CPU time (1.5 s at 10% of one CPU), then says so
  // on fd 3 and spins on until killed.
  auto spin = [] {
    timespec cpu;
    do {
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    } while (absl::DurationFromTimespec(cpu) < absl::Milliseconds(150));
    (void)!write(3, "r", 1);
    for (;;) {
    }
    return 0;
  };
  auto ready = MakePipe();
  TB_REQUIRE_OK(ready);
  SandboxBuilder limited = testing::DemoSandbox();
  limited.CpuMax(10);
  CommandBuilder command;
  command.Function(spin).PassFd(ready->write_end.get(), 3).Timeout(absl::Seconds(60));
  absl::StatusOr<Child> child = Launch(testing::Built(limited), testing::Built(command));
  TB_REQUIRE_OK(child);
  ready->write_end.Reset();
  // The command keeps a copy of the write end: wait for the byte, not for end-of-file.
  pollfd said = {ready->read_end.get(), POLLIN, 0};
  REQUIRE(poll(&said, 1, 30000) == 1);
  char byte;
  REQUIRE(read(ready->read_end.get(), &byte, 1) == 1);
  const std::vector<std::string> cgroups = SandboxCgroupsOf(getpid(), "cpu");
  REQUIRE(cgroups.size() == 1);
  absl::StatusOr<CgroupHierarchy> cpu = CgroupLayout::Read().ControllerHierarchy("cpu");
  TB_REQUIRE_OK(cpu);
  if (cpu->version == 1) {
    CHECK(testing::ReadProcFile(cgroups[0] + "/cpu.cfs_quota_us") == "10000\n");
    CHECK(testing::ReadProcFile(cgroups[0] + "/cpu.cfs_period_us") == "100000\n");
  } else {
    CHECK(testing::ReadProcFile(cgroups[0] + "/cpu.max") == "10000 100000\n");
  }
  // The kernel held it back: 150 ms at 10 ms per 100 ms period is some 14 periods throttled.
  const int64_t throttled = CgroupStat(cgroups[0] + "/cpu.stat", "nr_throttled");
  INFO("nr_throttled ", throttled);
  CHECK(throttled >= 10);
  TB_CHECK_OK(child->Kill());
  TB_CHECK_OK(child->Wait());
  CHECK(SandboxCgroupsOf(getpid(), "cpu").empty());
  // Without a limit no cpu cgroup is made, so nothing throttles the program.
  absl::StatusOr<Child> free = Launch(testing::Built(testing::DemoSandbox()),
                                      testing::Built(testing::ProgramCommand({"/bin/sleep", "30"})));
  TB_REQUIRE_OK(free);
  if (cpu->version == 1) CHECK(SandboxCgroupsOf(getpid(), "cpu").empty());
  TB_CHECK_OK(free->Kill());
  TB_CHECK_OK(free->Wait());
}

// The cgroups tokenbox made in the v1 hierarchies of the limited controllers for the sandboxes
// of launcher `pid`.
int LimitCgroupsOf(pid_t pid) {
  int found = 0;
  for (const char* controller : {"pids", "memory", "cpu"}) {
    absl::StatusOr<CgroupHierarchy> hierarchy =
        CgroupLayout::Read().ControllerHierarchy(controller);
    if (hierarchy.ok() && hierarchy->version == 1) {
      found += static_cast<int>(SandboxCgroupsOf(pid, controller).size());
    }
  }
  return found;
}

TEST_CASE("The limit cgroups are gone after the sandbox, and after a SIGKILLed launcher") {
  TB_REQUIRE_PRIVILEGE();
  REQUIRE(CgroupLayout::Read().ControllerHierarchy("pids").ok());
  SandboxBuilder limited = testing::DemoSandbox();
  limited.MemoryMax(256 << 20).CpuMax(100);
  absl::StatusOr<Child> child =
      Launch(testing::Built(limited), testing::Built(testing::ProgramCommand({"/bin/sleep", "30"})));
  TB_REQUIRE_OK(child);
  CHECK(LimitCgroupsOf(getpid()) == 3);  // pids, memory, cpu.
  TB_CHECK_OK(child->Kill());
  TB_CHECK_OK(child->Wait());
  CHECK(LimitCgroupsOf(getpid()) == 0);
  // A launcher that dies by SIGKILL cannot remove them; the next launch on the machine does.
  const std::string marker = absl::StrCat("tokenbox-limits-test-", getpid());
  // The sandbox says it runs on tokenbox's stdout, a pipe: its cgroups exist by then.
  auto started = MakePipe();
  TB_REQUIRE_OK(started);
  pid_t launcher = fork();
  REQUIRE(launcher >= 0);
  if (launcher == 0) {
    dup2(started->write_end.get(), STDOUT_FILENO);
    // The marker is the shell's $0, in its arguments before it says it runs (and in tokenbox's).
    execl("tools/tokenbox", "tokenbox", "run", "--delegate-cmds=map_create",
          "--delegate-maps=array", "--memory-max=256M", "--cpu-max=100", "--", "/bin/sh", "-c",
          "echo running; exec sleep 100", marker.c_str(), nullptr);
    _exit(127);
  }
  started->write_end.Reset();
  char line[8] = {};
  REQUIRE(read(started->read_end.get(), line, sizeof(line)) == 8);
  CHECK(std::string(line, 8) == "running\n");
  CHECK(LimitCgroupsOf(launcher) == 3);
  // tokenbox, the sandbox's pid 1 (a copy of it) and the shell, which becomes sleep.
  const std::vector<pid_t> marked = testing::ProcessesWithArgument(marker);
  REQUIRE(marked.size() >= 2);
  kill(launcher, SIGKILL);
  waitpid(launcher, nullptr, 0);
  // The sandbox's pid 1 dies with its launcher, and its namespace with it.
  for (pid_t pid : marked) CHECK(testing::AwaitExit(pid));
  CHECK_FALSE(testing::ProcessWithArgument(marker));
  CHECK(Printed(testing::DemoSandbox(), [] { return 0; }).empty());
  CHECK(LimitCgroupsOf(launcher) == 0);
}

// As far as this machine allows a look at the cgroup2 side: it is found beside the v1
// hierarchies, holds the sandbox's cgroup (and its namespace's root), and no controller.
TEST_CASE("On the hybrid layout limits use the v1 hierarchies; cgroup2 is found beside them") {
  TB_REQUIRE_PRIVILEGE();
  absl::StatusOr<std::optional<CgroupHierarchy>> cgroup2 = CgroupLayout::Read().Cgroup2();
  TB_REQUIRE_OK(cgroup2);
  REQUIRE(cgroup2->has_value());
  CHECK((*cgroup2)->version == 2);
  for (const char* controller : {"pids", "memory", "cpu"}) {
    INFO(controller);
    absl::StatusOr<CgroupHierarchy> hierarchy =
        CgroupLayout::Read().ControllerHierarchy(controller);
    TB_REQUIRE_OK(hierarchy);
    if (hierarchy->version == 2) continue;  // A machine with it on cgroup2 instead.
    CHECK(hierarchy->mount_point != (*cgroup2)->mount_point);
    CHECK(access((hierarchy->LauncherDirectory() + "/cgroup.procs").c_str(), W_OK) == 0);
  }
}

TEST_CASE("A controller that is nowhere is one error that names it and says what to do") {
  absl::StatusOr<CgroupHierarchy> missing =
      CgroupLayout::Read().ControllerHierarchy("no_such_controller");
  REQUIRE_FALSE(missing.ok());
  CHECK(testing::Contains(std::string(missing.status().message()), "no_such_controller"));
  CHECK(testing::Contains(std::string(missing.status().message()),
                          "or run without the limit that needs it"));
}

}  // namespace
}  // namespace tokenbox
