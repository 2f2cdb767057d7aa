// The escape and least-privilege suite. Each test case runs one probe (tests/escape/escape_probe,
// one row of the table below) inside `tokenbox run` with a policy that delegates something
// real, and checks that the one way the probe tries to get more than the policy gives is
// refused exactly as the kernel should refuse it. Every probe runs three times: in a sandbox
// launched directly, in one launched by a fork server (`tokenbox run --via-fork-server`), and in
// one tokenboxd launched for a real user who is not root (tokenbox run as that user), which must
// each hold the same way. Where a probe needs something from the host (a host-owned delegated bpffs,
// a binary with file capabilities, a setuid-root binary, leaked fds), the test sets it up as
// root and shows that it would grant privilege outside the sandbox, so that the refusal inside
// means something.
//
// At the end the results are printed as a table `probe | expected refusal | observed`, and
// written as Markdown to the file named by TOKENBOX_ESCAPE_TABLE when it is set (with Bazel:
// --test_env=TOKENBOX_ESCAPE_TABLE=/abs/path.md).
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ns/mount_api.h"
#include "ns/pipe.h"
#include "ns/unique_fd.h"
#include "tests/command_runner.h"
#include "tests/service/daemon_harness.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::CommandOptions;
using ::tokenbox::testing::CommandResult;
using ::tokenbox::testing::Contains;
using ::tokenbox::testing::RunCommand;
using ::tokenbox::testing::StagedFiles;

const std::string kTokenbox = "tools/tokenbox";
const std::string kProbe = "tests/escape/escape_probe";
// Every mount, staged directory and marker of this test has this in its name, so that the last
// test case can check that none is left.
const std::string kOurs = "tokenbox-escape";

// Delegates something real: array maps, socket filters with the attach type libbpf probes with.
const std::vector<std::string> kPolicy = {
    "--delegate-cmds=map_create:prog_load:btf_load", "--delegate-maps=array",
    "--delegate-progs=socket_filter", "--delegate-attachs=cgroup_inet_ingress"};

// --- The results table. ------------------------------------------------------------------------

struct Row {
  std::string probe;
  std::string what;
  std::string expected;
  std::string observed;
};

std::vector<Row>& Rows() {
  static auto* rows = new std::vector<Row>();
  return *rows;
}

std::string Cell(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string Table() {
  std::string table = "| probe | expected refusal | observed |\n| --- | --- | --- |\n";
  for (const Row& row : Rows()) {
    absl::StrAppend(&table, "| `", row.probe, "`: ", Cell(row.what), " | ", Cell(row.expected),
                    " | ", Cell(row.observed), " |\n");
  }
  return table;
}

// Prints the table after the last test case, and writes it where TOKENBOX_ESCAPE_TABLE says.
struct TableListener : testing::ListenerBase {
  explicit TableListener(const doctest::ContextOptions&) {}
  void test_run_end(const doctest::TestRunStats&) override {
    if (Rows().empty()) return;
    const std::string table = Table();
    std::printf("\ntokenbox escape suite (%zu probes):\n%s\n", Rows().size(), table.c_str());
    std::fflush(stdout);
    if (const char* path = std::getenv("TOKENBOX_ESCAPE_TABLE"); path != nullptr && *path != '\0') {
      std::ofstream out(path, std::ios::trunc);
      out << table;
      if (!out) std::fprintf(stderr, "escape_test: cannot write the table to %s\n", path);
    }
  }
};
REGISTER_LISTENER("tokenbox-escape-table", 2, TableListener);

// --- Helpers. ----------------------------------------------------------------------------------

// The probe, where the sandbox's user (host uid 65534) can run it. Removed at exit.
const StagedFiles& StagedProbe() {
  static StagedFiles staged({kProbe});
  return staged;
}
std::string ProbePath() { return StagedProbe().path("escape_probe"); }

// How a probe's sandbox is launched: by Launch(), by a fork server's zygote, or by tokenboxd for
// a user who is not root (tokenbox run as that user).
enum class Via { kLaunch, kForkServer, kTokenboxd };
constexpr Via kEveryWay[] = {Via::kLaunch, Via::kForkServer, Via::kTokenboxd};
// The two ways of root's, for the probes that need root's launcher beside them (leaked fds, a
// launcher to SIGKILL, a host mount the test makes in the launcher's namespace).
constexpr Via kBothWays[] = {Via::kLaunch, Via::kForkServer};

// The name of a table row: the probe (and its options), marked when a fork server or tokenboxd
// launched it.
std::string RowName(const std::string& probe, Via via) {
  switch (via) {
    case Via::kLaunch: return probe;
    case Via::kForkServer: return absl::StrCat(probe, " (fork server)");
    case Via::kTokenboxd: return absl::StrCat(probe, " (tokenboxd, as a user)");
  }
  return probe;
}

// A real user who is not root, granted the suite's policy by a tokenboxd of the suite's own;
// made at the first probe that needs them, removed at exit.
struct UserWorld {
  testing::TestUser user{"tbx-escape"};
  testing::TestDaemon daemon{
      "tbx-escape cmds=map_create:prog_load:btf_load maps=array progs=socket_filter "
      "attachs=cgroup_inet_ingress\n"};
  StagedFiles tokenbox{{kTokenbox}};  // Where the user can run it: the runfiles are root's.
};
const UserWorld& TheUserWorld() {
  static UserWorld world;
  REQUIRE_MESSAGE(world.user.created(), "the test user could not be made");
  REQUIRE_MESSAGE(world.daemon.running(), "tokenboxd could not be started: ", world.daemon.log());
  return world;
}

std::vector<std::string> TokenboxArgv(const std::vector<std::string>& extra_options,
                                      const std::vector<std::string>& program, Via via) {
  std::vector<std::string> argv = {kTokenbox, "run"};
  if (via == Via::kForkServer) argv.push_back("--via-fork-server");
  argv.insert(argv.end(), kPolicy.begin(), kPolicy.end());
  argv.insert(argv.end(), extra_options.begin(), extra_options.end());
  argv.push_back("--");
  argv.insert(argv.end(), program.begin(), program.end());
  return argv;
}

// The probe's result line, split: {expected, observed}; nullopt when there is none.
std::optional<std::pair<std::string, std::string>> ParseProbeLine(const std::string& out,
                                                                  const std::string& probe) {
  const std::string prefix = absl::StrCat("probe=", probe, " expected=");
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (!absl::StartsWith(line, prefix)) continue;
    line.remove_prefix(prefix.size());
    size_t observed = line.find(" observed=");
    if (observed == absl::string_view::npos) return std::nullopt;
    return std::make_pair(std::string(line.substr(0, observed)),
                          std::string(line.substr(observed + 10)));
  }
  return std::nullopt;
}

// Checks a finished probe run: exit 0 and exactly the expected line. Records the table row
// (under `row`, when the same probe runs more than once).
void CheckProbe(const std::string& probe, const std::string& what, const std::string& expected,
                const CommandResult& r, const std::string& row = "") {
  INFO("stdout: ", r.out);
  INFO("stderr: ", r.err);
  std::optional<std::pair<std::string, std::string>> line = ParseProbeLine(r.out, probe);
  Rows().push_back({row.empty() ? probe : row, what, expected,
                    line ? line->second : "(no result line)"});
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.out, absl::StrCat("probe=", probe, " expected=", expected, " observed=",
                                     expected, "\n")));
}

// Runs one probe in the sandbox (with `options` added to the policy), launched both ways, and
// checks it.
void ExpectRefused(const std::string& probe, const std::string& what, const std::string& expected,
                   const std::vector<std::string>& probe_args = {},
                   const std::vector<std::string>& options = {}) {
  std::vector<std::string> program = {ProbePath(), probe};
  program.insert(program.end(), probe_args.begin(), probe_args.end());
  const std::string row = options.empty() ? probe : absl::StrCat(probe, " ", absl::StrJoin(options, " "));
  for (Via via : kEveryWay) {
    INFO(RowName(row, via));
    CommandResult r;
    if (via == Via::kTokenboxd) {
      const UserWorld& world = TheUserWorld();
      std::vector<std::string> argv = TokenboxArgv(options, program, Via::kLaunch);
      argv[0] = world.tokenbox.path("tokenbox");
      r = testing::RunAs(world.user, world.daemon, argv);
    } else {
      r = RunCommand(TokenboxArgv(options, program, via));
    }
    CheckProbe(probe, what, expected, r, RowName(row, via));
  }
}

std::vector<std::string> ReadLines(const std::string& path) {
  return absl::StrSplit(testing::ReadProcFile(path), '\n', absl::SkipEmpty());
}

// The host's mount table lines for one mount point (field 5 of /proc/self/mountinfo).
std::vector<std::string> MountLinesAt(const std::vector<std::string>& mountinfo,
                                      const std::string& mount_point) {
  std::vector<std::string> out;
  for (const std::string& line : mountinfo) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    if (fields.size() > 4 && fields[4] == mount_point) out.push_back(line);
  }
  return out;
}

std::vector<std::string> LinesContaining(const std::vector<std::string>& lines,
                                         const std::string& needle) {
  std::vector<std::string> out;
  for (const std::string& line : lines) {
    if (Contains(line, needle)) out.push_back(line);
  }
  return out;
}

// A fresh directory for this test that only root can write and everyone can search (not under
// /tmp, which each sandbox has its own of).
std::string MakeOwnDirectory() {
  std::string templ = absl::StrCat("/var/lib/", kOurs, "-", getpid(), "-XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) return "";
  chmod(templ.c_str(), 0755);
  return templ;
}

// A detached bpffs configured by the host (this process, root in the initial user namespace)
// with every delegate option set to `any`.
absl::StatusOr<UniqueFd> HostDelegatedBpffsMount() {
  absl::StatusOr<UniqueFd> fs = FsOpen("bpf");
  if (!fs.ok()) return fs.status();
  for (const char* key : {"delegate_cmds", "delegate_maps", "delegate_progs", "delegate_attachs"}) {
    if (absl::Status s = FsConfigSetString(fs->get(), key, "any"); !s.ok()) return s;
  }
  if (absl::Status s = FsConfigCreate(fs->get()); !s.ok()) return s;
  return FsMount(fs->get());
}

// That bpffs, mounted at a directory under /tmp. Unmounted and removed at the end.
class HostDelegatedBpffs {
 public:
  HostDelegatedBpffs() : dir_(MakeOwnDirectory()) {
    REQUIRE_FALSE(dir_.empty());
    absl::StatusOr<UniqueFd> mount_fd = HostDelegatedBpffsMount();
    TB_REQUIRE_OK(mount_fd);
    TB_REQUIRE_OK(AttachMount(mount_fd->get(), dir_));
    mounted_ = true;
  }
  ~HostDelegatedBpffs() {
    if (mounted_) umount2(dir_.c_str(), MNT_DETACH);
    if (!dir_.empty()) rmdir(dir_.c_str());
  }
  const std::string& path() const { return dir_; }

 private:
  std::string dir_;
  bool mounted_ = false;
};

// A tokenbox run in the background, for probes that must be looked at (or killed) while they
// run, or whose launcher's pid matters. stdout and stderr go to one pipe; stdin is a pipe the
// test can close. `before_exec`, when given, runs in the child before it execs `argv`; when it
// fails, the child says so on stderr and exits 126.
class Background {
 public:
  explicit Background(const std::vector<std::string>& argv,
                      const std::function<absl::Status()>& before_exec = nullptr) {
    absl::StatusOr<Pipe> in = MakePipe();
    absl::StatusOr<Pipe> out = MakePipe();
    REQUIRE(in.ok());
    REQUIRE(out.ok());
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    std::fflush(nullptr);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(in->read_end.get(), 0);
      dup2(out->write_end.get(), 1);
      dup2(out->write_end.get(), 2);
      if (before_exec) {
        if (absl::Status s = before_exec(); !s.ok()) {
          std::fprintf(stderr, "escape_test: before exec: %s\n", s.ToString().c_str());
          std::fflush(stderr);
          _exit(126);
        }
      }
      execv(args[0], args.data());
      _exit(127);
    }
    stdin_ = std::move(in->write_end);
    stdout_ = std::move(out->read_end);
  }
  ~Background() {
    CloseStdin();
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      Wait();
    }
  }

  pid_t pid() const { return pid_; }
  const std::string& output() const { return output_; }
  // Whether its output has reached end-of-file.
  bool at_end() const { return !stdout_; }

  // Reads until the output holds `text` or `timeout` passes; whether it does.
  bool ReadUntil(const std::string& text, absl::Duration timeout) {
    absl::Time deadline = absl::Now() + timeout;
    while (!Contains(output_, text)) {
      if (!ReadSome(deadline)) return Contains(output_, text);
    }
    return true;
  }
  // Reads what arrives within `timeout`, at most one chunk.
  void ReadFor(absl::Duration timeout) { ReadSome(absl::Now() + timeout); }
  // Reads until end-of-file or `timeout`.
  void ReadToEnd(absl::Duration timeout) {
    absl::Time deadline = absl::Now() + timeout;
    while (ReadSome(deadline)) {
    }
  }
  void CloseStdin() { stdin_.Reset(); }
  // Waits for the tokenbox process; its raw wait status.
  int Wait() {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    return status;
  }

 private:
  // One read; false at end-of-file, on an error or when the deadline passed.
  bool ReadSome(absl::Time deadline) {
    if (!stdout_) return false;
    int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left_ms <= 0) return false;
    pollfd pfd = {stdout_.get(), POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left_ms)) <= 0) return false;
    char buffer[4096];
    ssize_t n = read(stdout_.get(), buffer, sizeof(buffer));
    if (n <= 0) {
      stdout_.Reset();
      return false;
    }
    output_.append(buffer, static_cast<size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  UniqueFd stdin_;
  UniqueFd stdout_;
  bool reaped_ = false;
  std::string output_;
};

// What this run's mounts, directories and markers start with.
std::string OwnPrefix() { return absl::StrCat(kOurs, "-", getpid(), "-"); }

int Occurrences(const std::string& text, const std::string& needle) {
  int count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

std::string UniqueMarker(const std::string& what) {
  static int counter = 0;
  return absl::StrCat(OwnPrefix(), what, "-", ++counter);
}

// A probe run in the background to its end (stdout and stderr together), with tokenbox's pid.
struct ProbeRun {
  CommandResult result;
  pid_t launcher = -1;
};

ProbeRun RunProbe(const std::vector<std::string>& argv,
                  const std::function<absl::Status()>& before_exec = nullptr) {
  Background run(argv, before_exec);
  run.CloseStdin();
  run.ReadToEnd(absl::Seconds(60));
  ProbeRun probe;
  probe.launcher = run.pid();
  if (!run.at_end()) kill(run.pid(), SIGKILL);  // It hung: 60 s passed before end-of-file.
  int status = run.Wait();
  probe.result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  probe.result.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  probe.result.out = run.output();
  return probe;
}

// The pid a probe printed as "targets parent=PID", or -1.
pid_t ReportedParent(const std::string& out) {
  const std::string prefix = "targets parent=";
  size_t at = out.find(prefix);
  pid_t pid = -1;
  if (at == std::string::npos) return -1;
  at += prefix.size();
  if (!absl::SimpleAtoi(out.substr(at, out.find('\n', at) - at), &pid)) return -1;
  return pid;
}

// --- Getting another token. --------------------------------------------------------------------

TEST_CASE("A second bpffs cannot be created in the sandbox") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("second-bpffs-fsopen", "fsopen(\"bpf\") for a second, self-delegated bpffs",
                "EPERM");
}

TEST_CASE("In a nested user namespace, fsopen works but delegate options are refused") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("second-bpffs-nested-delegate",
                "unshare(CLONE_NEWUSER|CLONE_NEWNS), fsopen(\"bpf\"), then fsconfig "
                "delegate_cmds=any",
                "EPERM");
}

TEST_CASE("In a nested user namespace, even an undelegated bpffs cannot be created") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("second-bpffs-nested-create",
                "unshare(CLONE_NEWUSER|CLONE_NEWNS), fsopen(\"bpf\"), then "
                "FSCONFIG_CMD_CREATE without delegate options (to get a token from it)",
                "EPERM");
}

TEST_CASE("A nested user namespace with every capability gets no token from the delegated bpffs") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("delegated-bpffs-token-from-nested-userns",
                "BPF_TOKEN_CREATE on /sys/fs/bpf after unshare(CLONE_NEWUSER|CLONE_NEWNS), "
                "which gives every capability in the nested namespace",
                "EPERM");
}

TEST_CASE("The delegated bpffs cannot be reconfigured") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("fspick-delegated-bpffs", "fspick(\"/sys/fs/bpf\") to change its delegation",
                "EPERM");
}

TEST_CASE("The delegated bpffs cannot be reconfigured from a nested mount namespace either") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("fspick-nested-delegate",
                "after unshare(CLONE_NEWUSER|CLONE_NEWNS): fspick(\"/sys/fs/bpf\") works; "
                "fsconfig delegate_cmds=any and FSCONFIG_CMD_RECONFIGURE",
                "EPERM");
}

TEST_CASE("A host bpffs with every delegation, reachable by path, yields no token") {
  TB_REQUIRE_PRIVILEGE();
  std::string path;
  {
    HostDelegatedBpffs host;
    path = host.path();
    REQUIRE(testing::HasMountAt(path, "bpf"));
    ExpectRefused("host-bpffs-token",
                  "BPF_TOKEN_CREATE on a bpffs the host mounted with delegate_*=any (opened by "
                  "path: the open works)",
                  "EPERM", {path});
  }
  CHECK_FALSE(testing::HasMountAt(path));
  CHECK(access(path.c_str(), F_OK) != 0);
}

// Runs host-bpffs-via-proc-root against a host bpffs, launched both ways with `options`, and
// checks that the parent it reached is `parent` (the launcher when it is 0).
void CheckProcRootRefused(const std::string& what, const std::vector<std::string>& options,
                          pid_t parent) {
  std::string path;
  {
    HostDelegatedBpffs host;
    path = host.path();
    const std::string row =
        options.empty() ? "host-bpffs-via-proc-root"
                        : absl::StrCat("host-bpffs-via-proc-root ", absl::StrJoin(options, " "));
    for (Via via : kBothWays) {
      INFO(RowName(row, via));
      ProbeRun run = RunProbe(
          TokenboxArgv(options, {ProbePath(), "host-bpffs-via-proc-root", path}, via));
      CheckProbe("host-bpffs-via-proc-root", what, "EACCES", run.result, RowName(row, via));
      CHECK(ReportedParent(run.result.out) == (parent == 0 ? run.launcher : parent));
    }
  }
  CHECK_FALSE(testing::HasMountAt(path));
}

TEST_CASE("Host paths are not reachable through /proc/PID/root of host init or the launcher") {
  TB_REQUIRE_PRIVILEGE();
  // Without a pid namespace the program names host processes: pid 1 is the host's init, and
  // its parent is tokenbox itself (checked against the pid this test started).
  CheckProcRootRefused("open /proc/1/root and /proc/<launcher>/root + the host bpffs path "
                       "(in the host's pid namespace: host init, and the parent checked to be "
                       "tokenbox)",
                       {"--no-unshare-pid"}, 0);
}

TEST_CASE("In the default pid namespace, /proc/1/root is the sandbox's own init, and refused too") {
  TB_REQUIRE_PRIVILEGE();
  // The host's processes cannot be named here: pid 1 and the parent are the sandbox's pid 1.
  CheckProcRootRefused("open /proc/1/root and /proc/<parent>/root + the host bpffs path, in the "
                       "default pid namespace, where both are the sandbox's own pid 1 (parent "
                       "checked to be 1), not a host process",
                       {}, 1);
}

// The launcher runs in a mount namespace of its own in which the host has mounted a bpffs with
// every delegate option set to `any` at /sys/fs/bpf (this machine may have none there, and the
// real one is not touched); --no-bpffs leaves it uncovered in the sandbox.
TEST_CASE("--no-bpffs: a host bpffs at /sys/fs/bpf, visible inside, yields no token") {
  TB_REQUIRE_PRIVILEGE();
  const std::vector<std::string> before = MountLinesAt(ReadLines("/proc/self/mountinfo"), "/sys/fs/bpf");
  auto mount_host_bpffs = []() -> absl::Status {
    if (unshare(CLONE_NEWNS) != 0) return absl::ErrnoToStatus(errno, "unshare(CLONE_NEWNS)");
    // Slave, so that the bpffs below does not propagate back to the host.
    if (mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
      return absl::ErrnoToStatus(errno, "mount(/, MS_REC|MS_SLAVE)");
    }
    absl::StatusOr<UniqueFd> mount_fd = HostDelegatedBpffsMount();
    if (!mount_fd.ok()) return mount_fd.status();
    return AttachMount(mount_fd->get(), "/sys/fs/bpf");
  };
  const std::string row = "host-bpffs-at-sys-fs-bpf --no-bpffs";
  for (Via via : kBothWays) {
    INFO(RowName(row, via));
    ProbeRun run = RunProbe(
        TokenboxArgv({"--no-bpffs"}, {ProbePath(), "host-bpffs-at-sys-fs-bpf"}, via),
        mount_host_bpffs);
    CheckProbe("host-bpffs-at-sys-fs-bpf",
               "with --no-bpffs, BPF_TOKEN_CREATE on /sys/fs/bpf, where the launcher's mount "
               "namespace has a bpffs the host mounted with delegate_*=any (checked: a bpffs "
               "with delegate_cmds=any; the sandbox's own token works)",
               "EPERM", run.result, RowName(row, via));
  }
  CHECK(MountLinesAt(ReadLines("/proc/self/mountinfo"), "/sys/fs/bpf") == before);
}

// --- Loading what is not delegated. ------------------------------------------------------------

TEST_CASE("A map type that is not delegated is refused with the token") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("map-undelegated-with-token",
                "BPF_MAP_CREATE hash (not delegated) with the token (an array map loads)", "EPERM");
}

TEST_CASE("A map type that is not delegated is refused without the token") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("map-undelegated-without-token", "BPF_MAP_CREATE hash without the token",
                "EPERM");
}

TEST_CASE("A program type that is not delegated is refused with the token") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("prog-undelegated-with-token",
                "BPF_PROG_LOAD cgroup_skb (not delegated; its attach type is) with the token "
                "(a socket_filter loads)",
                "EPERM");
}

TEST_CASE("A program type that is not delegated is refused without the token") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("prog-undelegated-without-token", "BPF_PROG_LOAD cgroup_skb without the token",
                "EPERM");
}

TEST_CASE("An attach type that is not delegated is refused with the token") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("attach-undelegated-with-token",
                "BPF_PROG_LOAD socket_filter with expected attach type cgroup_inet_egress (not "
                "delegated) with the token",
                "EPERM");
}

TEST_CASE("An attach type that is not delegated is refused without the token") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("attach-undelegated-without-token",
                "the same socket_filter/cgroup_inet_egress load without the token", "EPERM");
}

// --- Regaining capabilities. -------------------------------------------------------------------

TEST_CASE("execve of a binary with file capabilities gains nothing") {
  TB_REQUIRE_PRIVILEGE();
  StagedFiles staged({kProbe});  // Removed at the end of the test case.
  const std::string target = staged.path("escape_probe");
  cap_t caps = cap_from_text("cap_sys_admin,cap_net_admin+ep");
  REQUIRE(caps != nullptr);
  REQUIRE(cap_set_file(target.c_str(), caps) == 0);
  cap_free(caps);
  // Control: outside the sandbox, the same file makes host uid 65534 an admin.
  CommandResult control = RunCommand({target, "report-credentials"}, {.uid = 65534});
  INFO("control: ", control.out, control.err);
  CHECK(control.out == "euid=65534,CapEff=cap_net_admin,cap_sys_admin,"
                       "CapPrm=cap_net_admin,cap_sys_admin\n");
  ExpectRefused("exec-file-caps",
                "execve of a copy with file capabilities cap_sys_admin,cap_net_admin+ep (which "
                "outside gives uid 65534 both)",
                "execve:EPERM", {target});
}

TEST_CASE("execve of a setuid-root binary gains nothing") {
  TB_REQUIRE_PRIVILEGE();
  StagedFiles staged({kProbe});
  const std::string target = staged.path("escape_probe");
  REQUIRE(chown(target.c_str(), 0, 0) == 0);
  REQUIRE(chmod(target.c_str(), 04755) == 0);
  // Control: outside the sandbox, the same file makes host uid 65534 root.
  CommandResult control = RunCommand({target, "report-credentials"}, {.uid = 65534});
  INFO("control: ", control.out, control.err);
  CHECK(absl::StartsWith(control.out, "euid=0,CapEff=cap_chown,"));
  ExpectRefused("exec-setuid-root",
                "execve of a setuid-root copy (mode 04755, owner host root, which outside gives "
                "uid 65534 euid 0 and every capability)",
                "euid=0,CapEff=cap_bpf,CapPrm=cap_bpf", {target});
}

TEST_CASE("A plain re-exec as inner uid 0 gains nothing") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("exec-self", "execve of itself as inner uid 0 (SECBIT_NOROOT)",
                "euid=0,CapEff=cap_bpf,CapPrm=cap_bpf");
}

TEST_CASE("Capabilities cannot be raised") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("capset-raise",
                "capset adding cap_sys_admin,cap_net_admin; PR_CAP_AMBIENT_RAISE cap_sys_admin",
                "EPERM");
}

TEST_CASE("Securebits cannot be cleared") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("securebits-unlock", "PR_SET_SECUREBITS 0 (the bits are locked)", "EPERM");
}

TEST_CASE("no_new_privs cannot be cleared") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("no-new-privs-clear", "PR_SET_NO_NEW_PRIVS 0", "EINVAL");
}

// --- Touching the host. ------------------------------------------------------------------------

// In the default pid namespace host processes cannot even be named; without it
// (--no-unshare-pid) they can, and these probes show what still stops the program.
const std::vector<std::string> kHostPids = {"--no-unshare-pid"};

TEST_CASE("The launcher cannot be traced (--no-unshare-pid)") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("ptrace-launcher", "PTRACE_ATTACH to the launcher (getppid(), host root)",
                "EPERM", {}, kHostPids);
}

TEST_CASE("Host pid 1 cannot be traced (--no-unshare-pid)") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("ptrace-host-init", "PTRACE_ATTACH to host pid 1", "EPERM", {}, kHostPids);
}

TEST_CASE("The launcher cannot be robbed of its fds (--no-unshare-pid)") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("pidfd-getfd-launcher", "pidfd_getfd of the launcher's fds 0-3", "EPERM", {},
                kHostPids);
}

TEST_CASE("Host pid 1 and the launcher cannot be signalled (--no-unshare-pid)") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("kill-host", "kill(pid 1 and the launcher, 0)", "EPERM", {}, kHostPids);
}

TEST_CASE("The parent in the default pid namespace, the sandbox's pid 1, cannot be traced") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("ptrace-sandbox-init",
                "PTRACE_ATTACH to the parent in the default pid namespace: the sandbox's pid 1 "
                "(getppid() == 1 checked), same uids but not dumpable (both checked)",
                "EPERM");
}

TEST_CASE("Every process the sandbox can see refuses to be traced, robbed of fds or killed") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("scan-pids",
                "every pid in /proc but the probe's own (only the sandbox's pid 1 may be there): "
                "PTRACE_ATTACH, pidfd_getfd of fd 0, SIGKILL (accepted, same user, but pid 1 of "
                "a pid namespace discards it; checked still running)",
                "pid1:ptrace=EPERM,pidfd_getfd=EPERM,sigkill=ignored");
}

TEST_CASE("/etc/shadow cannot be read") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("read-shadow", "open(\"/etc/shadow\") (root:shadow 0640)", "EACCES");
}

TEST_CASE("/etc/shadow cannot be opened by handle") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("open-by-handle", "name_to_handle_at + open_by_handle_at on /etc/shadow",
                "EPERM");
}

TEST_CASE("/proc/sys cannot be written") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("write-proc-sys",
                "open for writing /proc/sys/kernel/hostname, vm/drop_caches, kernel/core_pattern",
                "EACCES");
}

// Fds opened as root without O_CLOEXEC, so that tokenbox inherits them: /etc/shadow twice (one
// at >= 100) and /root. Closed at the end.
class LeakedFds {
 public:
  LeakedFds() {
    shadow_.Reset(open("/etc/shadow", O_RDONLY));
    REQUIRE(shadow_.valid());
    high_.Reset(fcntl(shadow_.get(), F_DUPFD, 100));
    root_dir_.Reset(open("/root", O_RDONLY | O_DIRECTORY));
    REQUIRE(high_.get() >= 100);
    REQUIRE(root_dir_.valid());
    CHECK(fcntl(shadow_.get(), F_GETFD) == 0);
  }

 private:
  UniqueFd shadow_, high_, root_dir_;
};

TEST_CASE("No fd but 0-2 and the token reaches the program, even one leaked to the launcher") {
  TB_REQUIRE_PRIVILEGE();
  LeakedFds leaked;
  ExpectRefused("inherited-fds",
                "list /proc/self/fd while the launcher inherited fds on /etc/shadow (twice, one "
                "at >= 100) and /root, not close-on-exec",
                "0,1,2,token");
}

TEST_CASE("No leaked fd reaches the program with --unshare-pid") {
  TB_REQUIRE_PRIVILEGE();
  LeakedFds leaked;
  ExpectRefused("inherited-fds", "the same, with the program as pid 2 of a new pid namespace",
                "0,1,2,token", {}, {"--unshare-pid"});
}

TEST_CASE("No leaked fd reaches the program with --no-unshare-pid") {
  TB_REQUIRE_PRIVILEGE();
  LeakedFds leaked;
  ExpectRefused("inherited-fds",
                "the same, with the program exec'd directly by the launcher's child (no pid "
                "namespace)",
                "0,1,2,token", {}, {"--no-unshare-pid"});
}

TEST_CASE("Supplementary groups cannot be set") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("setgroups", "setgroups(0, NULL)", "EPERM");
}

TEST_CASE("The mount tree cannot be changed with CAP_BPF alone") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("mount-direct",
                "mount tmpfs on /, remount / read-only, umount /sys/fs/bpf, open_tree(/, "
                "OPEN_TREE_CLONE), move_mount /sys/fs/bpf, pivot_root, chroot",
                "EPERM");
}

TEST_CASE("The delegated bpffs cannot be unmounted from a nested mount namespace") {
  TB_REQUIRE_PRIVILEGE();
  ExpectRefused("umount-nested-bpffs",
                "umount /sys/fs/bpf after unshare(CLONE_NEWUSER|CLONE_NEWNS) (to uncover the "
                "host's /sys/fs/bpf; copied mounts are locked)",
                "EINVAL");
}

// Runs the mount-nested probe, launched `via`, and checks the mount tables while it holds its
// nested mounts and after.
void CheckNestedMountStaysNested(Via via) {
  INFO(RowName("mount-nested", via));
  const std::string marker = UniqueMarker("nested-mount");
  const std::vector<std::string> before = ReadLines("/proc/self/mountinfo");
  // The probe reports its nested process by pid, which must be a host pid to look it up here.
  Background run(TokenboxArgv({"--no-unshare-pid"}, {ProbePath(), "mount-nested", marker}, via));
  REQUIRE_MESSAGE(run.ReadUntil("nested-mount-ready pid=", absl::Seconds(30)), run.output());
  REQUIRE(run.ReadUntil("\n", absl::Seconds(5)));
  // While the nested namespace holds its mounts: they are there, and only there.
  pid_t nested = 0;
  {
    std::string rest = run.output().substr(run.output().find("nested-mount-ready pid=") + 23);
    REQUIRE(absl::SimpleAtoi(rest.substr(0, rest.find('\n')), &nested));
  }
  std::vector<std::string> nested_mounts =
      LinesContaining(ReadLines(absl::StrCat("/proc/", nested, "/mountinfo")), marker);
  CHECK(nested_mounts.size() == 2);  // Over / and over /tmp.
  const std::vector<std::string> during = ReadLines("/proc/self/mountinfo");
  CHECK(LinesContaining(during, marker).empty());
  for (const char* point : {"/", "/tmp", "/sys/fs/bpf"}) {
    INFO(point);
    CHECK(MountLinesAt(during, point) == MountLinesAt(before, point));
  }
  run.CloseStdin();
  run.ReadToEnd(absl::Seconds(30));
  int status = run.Wait();
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = run.output();
  CheckProbe("mount-nested",
             "after unshare(CLONE_NEWUSER|CLONE_NEWNS): mount tmpfs over / and /tmp (works; "
             "checked absent from the sandbox's and the host's mount tables while it exists)",
             "nested-only", r, RowName("mount-nested", via));
  CHECK(LinesContaining(ReadLines("/proc/self/mountinfo"), marker).empty());
}

TEST_CASE("A mount in a nested mount namespace stays there; the host's mount table is unchanged") {
  TB_REQUIRE_PRIVILEGE();
  for (Via via : kBothWays) CheckNestedMountStaysNested(via);
}

// --- Outliving the launcher. -------------------------------------------------------------------

// How tokenbox ends while the program sleeps.
enum class Ending {
  kLauncherKilled,  // SIGKILL
  kTimedOut,        // its --timeout, which the options give; tokenbox must exit 124
  // SIGSTOP before its --timeout, SIGCONT once the sandbox is gone; tokenbox must exit 124.
  kStoppedPastTimeout,
};

// The live children of `parent`: a stopped tokenbox's fork-server zygote still carries the
// marker, rightly. (A pid 1 killed at the deadline is a zombie, whose arguments are gone.)
std::vector<pid_t> LiveChildrenOf(pid_t parent, const std::vector<pid_t>& among) {
  std::vector<pid_t> children;
  for (pid_t pid : among) {
    std::optional<testing::ProcessStat> stat = testing::ReadProcessStat(pid);
    if (stat.has_value() && stat->ppid == parent && stat->state != 'Z') children.push_back(pid);
  }
  return children;
}

// Starts `tokenbox run [options] -- probe MODE marker`, waits until the program runs, ends
// tokenbox and returns what is left of the sandbox after a few seconds: "gone", or what still
// runs. Kills (by pid) whatever is left.
std::string EndLauncherAndLook(const std::vector<std::string>& options, const std::string& mode,
                               int programs, Via via, Ending ending = Ending::kLauncherKilled) {
  const std::string marker = UniqueMarker("sleep");
  Background run(TokenboxArgv(options, {ProbePath(), mode, marker}, via));
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  auto sleeping = [&run] { return Occurrences(run.output(), "sleeping pid="); };
  while (sleeping() < programs && absl::Now() < deadline) {
    run.ReadFor(absl::Milliseconds(200));
  }
  // The program and its child have the marker as an argument; so do tokenbox and its forks: the
  // fork server's zygote, and with a pid namespace the sandbox's pid 1.
  const std::vector<pid_t> started = testing::ProcessesWithArgument(marker);
  std::string observed;
  if (sleeping() < programs) {
    observed = "did not start: " + run.output();
  } else {
    if (ending == Ending::kLauncherKilled) REQUIRE(kill(run.pid(), SIGKILL) == 0);
    if (ending == Ending::kStoppedPastTimeout) REQUIRE(kill(run.pid(), SIGSTOP) == 0);
    auto check_timed_out = [&run] {
      const int status = run.Wait();
      CHECK(WIFEXITED(status));
      CHECK(WEXITSTATUS(status) == 124);
    };
    if (ending != Ending::kStoppedPastTimeout) {
      const int status = run.Wait();
      if (ending == Ending::kTimedOut) {
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 124);
      }
    }
    absl::Time give_up = absl::Now() + absl::Seconds(5);
    std::vector<pid_t> left;
    do {
      left = testing::ProcessesWithArgument(marker);
      std::vector<pid_t> expected = LiveChildrenOf(run.pid(), left);
      expected.push_back(run.pid());
      left.erase(std::remove_if(left.begin(), left.end(),
                                [&](pid_t pid) {
                                  return ending == Ending::kStoppedPastTimeout &&
                                         std::count(expected.begin(), expected.end(), pid) > 0;
                                }),
                 left.end());
      if (left.empty()) {
        if (ending == Ending::kStoppedPastTimeout) {
          REQUIRE(kill(run.pid(), SIGCONT) == 0);
          check_timed_out();
        }
        return "gone";
      }
      absl::SleepFor(absl::Milliseconds(20));
    } while (absl::Now() < give_up);
    observed = absl::StrCat(left.size(), " of ", started.size() - 1,
                            " sandbox processes still running 5 s after the launcher ",
                            ending == Ending::kLauncherKilled ? "died"
                            : ending == Ending::kTimedOut    ? "timed out"
                                                             : "was stopped past its timeout");
    if (ending == Ending::kStoppedPastTimeout) kill(run.pid(), SIGCONT);
  }
  // Whatever is left is ours (it carries this run's marker): end it, by pid, and wait until it
  // has gone, so that the next test case does not see it.
  absl::Time give_up = absl::Now() + absl::Seconds(10);
  for (std::vector<pid_t> left = testing::ProcessesWithArgument(marker);
       !left.empty() && absl::Now() < give_up; left = testing::ProcessesWithArgument(marker)) {
    for (pid_t pid : left) {
      if (pid != run.pid()) kill(pid, SIGKILL);
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return observed;
}

// Kills the launcher of a sleeping probe, launched both ways, and checks that nothing of the
// sandbox is left.
void ExpectGoneWithLauncher(const std::string& row, const std::string& what,
                            const std::vector<std::string>& options, const std::string& mode,
                            int programs, Ending ending = Ending::kLauncherKilled) {
  for (Via via : kBothWays) {
    INFO(RowName(row, via));
    std::string observed = EndLauncherAndLook(options, mode, programs, via, ending);
    Rows().push_back({RowName(row, via), what, "gone", observed});
    CHECK(observed == "gone");
  }
}

TEST_CASE("The sandboxed program dies with a SIGKILLed launcher (--no-unshare-pid)") {
  TB_REQUIRE_PRIVILEGE();
  // Without a pid namespace tokenbox promises this much: the program itself dies.
  ExpectGoneWithLauncher("launcher-killed-no-unshare-pid",
                         "SIGKILL tokenbox (no pid namespace) while the program sleeps",
                         {"--no-unshare-pid"}, "sleep-forever", 1);
}

TEST_CASE("The sandboxed program dies with a SIGKILLed launcher (--unshare-pid)") {
  TB_REQUIRE_PRIVILEGE();
  ExpectGoneWithLauncher("launcher-killed-unshare-pid",
                         "SIGKILL tokenbox while the program (pid 2 of its pid namespace) sleeps",
                         {"--unshare-pid"}, "sleep-forever", 1);
}

TEST_CASE("A forked child of the program dies with a SIGKILLed launcher (--unshare-pid)") {
  TB_REQUIRE_PRIVILEGE();
  ExpectGoneWithLauncher("launcher-killed-forked-unshare-pid",
                         "SIGKILL tokenbox while the program and a child it forked sleep",
                         {"--unshare-pid"}, "sleep-forever-forked", 2);
}

// This probe found a hole when the default was no pid namespace: a child the program forked was
// reparented to the host's init and kept the token and CAP_BPF after the launcher was SIGKILLed.
// A pid namespace is now the default, for fork-server launches too; this checks the default,
// with no option given.
TEST_CASE("A forked child of the program dies with a SIGKILLed launcher (default options)") {
  TB_REQUIRE_PRIVILEGE();
  ExpectGoneWithLauncher("launcher-killed-forked",
                         "SIGKILL tokenbox (default options) while the program and a child it "
                         "forked sleep",
                         {}, "sleep-forever-forked", 2);
}

// A program's parent-death signal and process group are its own to change, so they cannot be
// what ends it: these probes clear both, in the program and in a child it forks. What holds is
// a pid namespace whose pid 1 is tokenbox's, also with --as-pid1 (the program is then pid 1 of
// a namespace nested in that one).
TEST_CASE("A program that clears its parent-death signal dies with a SIGKILLed launcher") {
  TB_REQUIRE_PRIVILEGE();
  ExpectGoneWithLauncher("launcher-killed-escaping",
                         "SIGKILL tokenbox (default options) while the program and its child, "
                         "both without a parent-death signal and in groups of their own, sleep",
                         {}, "sleep-forever-escaping", 2);
  ExpectGoneWithLauncher("launcher-killed-escaping-as-pid1",
                         "SIGKILL tokenbox (--as-pid1) while the program and its child, both "
                         "without a parent-death signal and in groups of their own, sleep",
                         {"--as-pid1"}, "sleep-forever-escaping", 2);
}

TEST_CASE("A program that clears its parent-death signal dies at the timeout") {
  TB_REQUIRE_PRIVILEGE();
  ExpectGoneWithLauncher("timeout-escaping",
                         "--timeout=2 (default options) while the program and its child, both "
                         "without a parent-death signal and in groups of their own, sleep",
                         {"--timeout=2"}, "sleep-forever-escaping", 2, Ending::kTimedOut);
  ExpectGoneWithLauncher("timeout-escaping-as-pid1",
                         "--timeout=2 --as-pid1 while the program and its child, both without a "
                         "parent-death signal and in groups of their own, sleep",
                         {"--as-pid1", "--timeout=2"}, "sleep-forever-escaping", 2,
                         Ending::kTimedOut);
}

// Without a pid namespace, what leaves the process group would outlive the timeout. The
// sandbox's leased host uid is its own, and at its end tokenbox kills every process of that uid
// in one kill(-1) made as it. (A SIGKILLed tokenbox cannot: docs/SECURITY.md.)
TEST_CASE("A program that clears its parent-death signal dies at the timeout (--no-unshare-pid)") {
  TB_REQUIRE_PRIVILEGE();
  ExpectGoneWithLauncher("timeout-escaping-no-unshare-pid",
                         "--timeout=2 --no-unshare-pid while the program and its child, both "
                         "without a parent-death signal and in groups of their own, sleep",
                         {"--no-unshare-pid", "--timeout=2"}, "sleep-forever-escaping", 2,
                         Ending::kTimedOut);
}

// The same without a pid namespace, with tokenbox SIGKILLed: the sandbox's cgroup has a watcher
// of root's that outlives tokenbox and kills the cgroup then.
TEST_CASE("A program that clears its parent-death signal dies with a SIGKILLed launcher "
          "(--no-unshare-pid)") {
  TB_REQUIRE_PRIVILEGE();
  ExpectGoneWithLauncher("launcher-killed-escaping-no-unshare-pid",
                         "SIGKILL tokenbox (--no-unshare-pid) while the program and its child, "
                         "both without a parent-death signal and in groups of their own, sleep",
                         {"--no-unshare-pid"}, "sleep-forever-escaping", 2);
  // Without a cgroup of its own, the watcher of its leased uid sweeps it.
  ExpectGoneWithLauncher("launcher-killed-escaping-no-unshare-pid-share-cgroup",
                         "SIGKILL tokenbox (--no-unshare-pid --share-cgroup) while the program and "
                         "its child, both without a parent-death signal and in groups of their "
                         "own, sleep",
                         {"--no-unshare-pid", "--share-cgroup"}, "sleep-forever-escaping", 2);
}

// Were the timeout tokenbox's alone, a tokenbox stopped by ^Z or SIGSTOP would let the sandbox
// run on past it. The sandbox's pid 1 holds the deadline too.
TEST_CASE("The timeout holds while tokenbox is stopped") {
  TB_REQUIRE_PRIVILEGE();
  ExpectGoneWithLauncher("stopped-past-timeout",
                         "SIGSTOP tokenbox (--timeout=2) while the program and its child, both "
                         "without a parent-death signal and in groups of their own, sleep",
                         {"--timeout=2"}, "sleep-forever-escaping", 2,
                         Ending::kStoppedPastTimeout);
  ExpectGoneWithLauncher("stopped-past-timeout-as-pid1",
                         "SIGSTOP tokenbox (--timeout=2 --as-pid1) while the program and its "
                         "child, both without a parent-death signal and in groups of their own, "
                         "sleep",
                         {"--as-pid1", "--timeout=2"}, "sleep-forever-escaping", 2,
                         Ending::kStoppedPastTimeout);
}

// The state letter (/proc/PID/stat) of each process that runs the probe with `marker`.
std::string ProbeStates(const std::string& marker) {
  std::string states;
  for (pid_t pid : testing::ProcessesWithArgument(marker)) {
    const std::string cmdline = testing::ReadProcFile(absl::StrCat("/proc/", pid, "/cmdline"));
    const std::string program = cmdline.substr(0, cmdline.find('\0'));
    if (program.find("escape_probe") == std::string::npos) continue;  // tokenbox and its forks
    if (std::optional<testing::ProcessStat> stat = testing::ReadProcessStat(pid)) {
      states += stat->state;
    }
  }
  std::sort(states.begin(), states.end());
  return states;
}

// ^Z stops tokenbox, but the sandbox, in a session of its own, does not get the terminal's
// SIGTSTP. SIGTSTP (what ^Z sends tokenbox's group) stops everything in the sandbox, also what
// left the program's process group, and SIGCONT (fg) continues it.
TEST_CASE("SIGTSTP stops the whole sandbox with tokenbox, and SIGCONT continues it") {
  TB_REQUIRE_PRIVILEGE();
  for (Via via : kBothWays) {
    for (bool as_pid1 : {false, true}) {
      CAPTURE(as_pid1);
      INFO(RowName("stop", via));
      const std::string marker = UniqueMarker("stop");
      std::vector<std::string> options;
      if (as_pid1) options.push_back("--as-pid1");
      Background run(TokenboxArgv(options, {ProbePath(), "sleep-forever-escaping", marker}, via));
      REQUIRE(run.ReadUntil("sleeping pid=", absl::Seconds(30)));
      while (Occurrences(run.output(), "sleeping pid=") < 2) run.ReadFor(absl::Milliseconds(100));
      auto wait_for = [&marker](const std::string& states) {
        for (absl::Time give_up = absl::Now() + absl::Seconds(5); absl::Now() < give_up;
             absl::SleepFor(absl::Milliseconds(20))) {
          if (ProbeStates(marker) == states) return true;
        }
        return false;
      };
      REQUIRE(wait_for("SS"));  // Both asleep (one may still be on its way to pause()).
      REQUIRE(kill(run.pid(), SIGTSTP) == 0);
      CHECK(wait_for("TT"));
      // tokenbox stops itself right after the sandbox, so it may be a moment behind.
      bool launcher_stopped = false;
      for (absl::Time give_up = absl::Now() + absl::Seconds(5);
           !launcher_stopped && absl::Now() < give_up; absl::SleepFor(absl::Milliseconds(20))) {
        launcher_stopped = testing::ReadProcessStat(run.pid())->state == 'T';
      }
      CHECK(launcher_stopped);
      REQUIRE(kill(run.pid(), SIGCONT) == 0);
      CHECK(wait_for("SS"));
      REQUIRE(kill(run.pid(), SIGKILL) == 0);  // The probe, as a pid 1, ignores SIGTERM.
      run.Wait();
      bool gone = false;
      for (absl::Time give_up = absl::Now() + absl::Seconds(5); !gone && absl::Now() < give_up;
           absl::SleepFor(absl::Milliseconds(20))) {
        gone = testing::ProcessesWithArgument(marker).empty();
      }
      CHECK(gone);
    }
  }
}

// --- Last: nothing is left behind. -------------------------------------------------------------

TEST_CASE("zz: the suite leaves no mount, directory or process behind") {
  const std::string prefix = OwnPrefix();
  const std::vector<std::string> mounts = LinesContaining(ReadLines("/proc/self/mountinfo"), prefix);
  INFO("mounts: ", absl::StrJoin(mounts, "\n"));
  CHECK(mounts.empty());
  std::vector<std::string> dirs;
  if (DIR* tmp = opendir("/tmp")) {
    while (dirent* entry = readdir(tmp)) {
      if (absl::StartsWith(entry->d_name, prefix)) dirs.push_back(entry->d_name);
    }
    closedir(tmp);
  }
  INFO("directories: ", absl::StrJoin(dirs, ", "));
  CHECK(dirs.empty());
  std::vector<pid_t> processes = testing::ProcessesWithArgument(prefix, testing::ArgumentMatch::kPrefix);
  INFO("processes: ", absl::StrJoin(processes, ", "));
  CHECK(processes.empty());
}

}  // namespace
}  // namespace tokenbox
