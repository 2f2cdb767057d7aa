// Every malformed input a user could type into `tokenbox run` gets one clear line on stderr and
// exit 125, and nothing starts: no crash, no hang, nothing half set up.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "tests/command_runner.h"
#include "tests/process_state.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::CommandResult;
using ::tokenbox::testing::Contains;
using ::tokenbox::testing::RunCommand;

struct BadInput {
  std::vector<std::string> args;  // After "tokenbox run".
  std::string error;              // Must appear in the one line.
};

// The largest single argument that can reach tokenbox at all: the kernel refuses any one argv
// string over MAX_ARG_STRLEN (32 pages, 128 KiB) with E2BIG before tokenbox runs, so "1 MiB"
// arrives only as several arguments, each handled like this one.
const std::string kHuge(127 * 1024, 'a');

std::vector<BadInput> Cases() {
  return {
      // Missing pieces.
      {{}, "missing '-- PROGRAM [ARGS...]'"},
      {{"--delegate-cmds=map_create", "/bin/true"}, "put '--' before the program"},
      {{"--delegate-cmds=map_create", "--"}, "missing the program after '--'"},
      {{"--", "/bin/true"}, "delegates nothing"},
      // Each --delegate-*: unknown, empty, duplicate names; numbers out of range; any mixed.
      {{"--delegate-cmds=map_craete", "--", "/bin/true"}, "(did you mean 'map_create'?)"},
      {{"--delegate-maps=hsah", "--", "/bin/true"}, "unknown map type 'hsah'"},
      {{"--delegate-progs=xpd", "--", "/bin/true"}, "unknown program type 'xpd' (did you mean 'xdp'?)"},
      {{"--delegate-attachs=cgroup_ingress", "--", "/bin/true"}, "unknown attach type"},
      {{"--delegate-cmds=map_create::prog_load", "--", "/bin/true"}, "empty item"},
      {{"--delegate-maps=:", "--", "/bin/true"}, "empty item"},
      {{"--delegate-progs=xdp::socket_filter", "--", "/bin/true"}, "delegate_progs: empty item"},
      {{"--delegate-attachs=cgroup_inet_ingress:", "--", "/bin/true"},
       "delegate_attachs: empty item"},
      {{"--delegate-cmds=map_create:MAP_CREATE", "--", "/bin/true"}, "repeats command"},
      {{"--delegate-maps=hash:hash", "--", "/bin/true"}, "repeats map type"},
      {{"--delegate-progs=xdp:XDP", "--", "/bin/true"}, "repeats program type"},
      {{"--delegate-attachs=cgroup_inet_ingress:cgroup_inet_ingress", "--", "/bin/true"},
       "repeats attach type"},
      {{"--delegate-cmds=map_create", "--delegate-cmds=prog_load", "--", "/bin/true"}, "given twice"},
      {{"--delegate-cmds=map_create", "--delegate-maps=", "--", "/bin/true"},
       "option '--delegate-maps' has an empty list"},
      {{"--delegate-cmds=map_create", "--delegate-maps=array", "--keep-caps=", "--", "/bin/true"},
       "option '--keep-caps' has an empty list"},
      {{"--delegate-cmds=0x8000000000000000", "--", "/bin/true"}, "sets bits beyond"},
      {{"--delegate-cmds=0x10000000000000000", "--", "/bin/true"}, "is not a valid number"},
      {{"--delegate-maps=18446744073709551616", "--", "/bin/true"}, "is not a valid number"},
      {{"--delegate-progs=0x8000000000000000", "--", "/bin/true"},
       "delegate_progs: number '0x8000000000000000' sets bits beyond"},
      {{"--delegate-progs=99999999999999999999", "--", "/bin/true"}, "is not a valid number"},
      {{"--delegate-attachs=0x8000000000000000", "--", "/bin/true"},
       "delegate_attachs: number '0x8000000000000000' sets bits beyond"},
      {{"--delegate-attachs=18446744073709551616", "--", "/bin/true"}, "is not a valid number"},
      {{"--delegate-maps=010", "--", "/bin/true"}, "leading 0"},
      {{"--delegate-maps=any:hash", "--", "/bin/true"}, "cannot be combined"},
      {{"--delegate-progs=xdp:any", "--", "/bin/true"}, "cannot be combined"},
      // Id maps.
      {{"--delegate-cmds=map_create", "--map-users=0:1000:10,5:2000:10", "--", "/bin/true"},
       "overlap inside"},
      {{"--delegate-cmds=map_create", "--map-users=0:1000:10", "--map-users=10:1005:10", "--",
        "/bin/true"},
       "overlap outside"},
      {{"--delegate-cmds=map_create", "--map-users=0:4294967290:10", "--", "/bin/true"},
       "wraps around"},
      {{"--delegate-cmds=map_create", "--map-users=0:1000:0", "--", "/bin/true"}, "count 0"},
      {{"--delegate-cmds=map_create", "--map-groups=0:1000", "--", "/bin/true"},
       "is not INSIDE:OUTSIDE:COUNT"},
      {{"--delegate-cmds=map_create", "--map-users=1:1000:1", "--", "/bin/true"},
       "must map inside uid 0"},
      {{"--delegate-cmds=map_create", "--uid=4294967296", "--", "/bin/true"}, "out of range"},
      {{"--delegate-cmds=map_create", "--gid=4294967296", "--", "/bin/true"},
       "--gid '4294967296' is out of range"},
      {{"--delegate-cmds=map_create", "--map-users=0:4294967296:1", "--", "/bin/true"},
       "--map-users: outside id '4294967296' is out of range"},
      {{"--delegate-cmds=map_create", "--map-users=4294967296:1000:1", "--", "/bin/true"},
       "--map-users: inside id '4294967296' is out of range"},
      {{"--delegate-cmds=map_create", "--map-groups=4294967296:1000:1", "--", "/bin/true"},
       "--map-groups: inside id '4294967296' is out of range"},
      {{"--delegate-cmds=map_create", "--map-groups=0:18446744073709551616:1", "--", "/bin/true"},
       "--map-groups: outside id '18446744073709551616' is out of range"},
      {{"--delegate-cmds=map_create", "--map-groups=0:1000:4294967296", "--", "/bin/true"},
       "--map-groups: count '4294967296' is out of range"},
      {{"--delegate-cmds=map_create", "--gid=-1", "--", "/bin/true"}, "not an unsigned decimal"},
      {{"--delegate-cmds=map_create", "--uid=1000", "--map-users=0:1000:1", "--", "/bin/true"},
       "not both"},
      // Timeouts: negative, zero, absurd, not a number.
      {{"--delegate-cmds=map_create", "--timeout=-1s", "--", "/bin/true"}, "must be positive"},
      {{"--delegate-cmds=map_create", "--timeout=0", "--", "/bin/true"}, "must be positive"},
      {{"--delegate-cmds=map_create", "--timeout=1000000h", "--", "/bin/true"},
       "longer than a year"},
      {{"--delegate-cmds=map_create", "--timeout=soon", "--", "/bin/true"}, "is not a duration"},
      {{"--delegate-cmds=map_create", "--timeout=nan", "--", "/bin/true"}, "is not a duration"},
      {{"--delegate-cmds=map_create", "--timeout=inf", "--", "/bin/true"}, "is not a duration"},
      // Paths, capabilities, options, environment.
      {{"--delegate-cmds=map_create", "--bpffs=relative/path", "--", "/bin/true"},
       "must be an absolute path"},
      {{"--delegate-cmds=map_create", "--chdir=relative", "--", "/bin/true"},
       "must be an absolute path"},
      {{"--delegate-cmds=map_create", "--keep-caps=sys_admn", "--", "/bin/true"},
       "unknown capability 'sys_admn'"},
      {{"--delegate-cmds=map_create", "--keep-caps=net_admin,,bpf", "--", "/bin/true"},
       "empty capability name"},
      {{"--delegate-cmds=map_create", "--frobnicate", "--", "/bin/true"},
       "unknown option '--frobnicate'"},
      {{"--delegate-cmd=map_create", "--", "/bin/true"}, "unknown option '--delegate-cmd'"},
      {{"-v", "--", "/bin/true"}, "unknown option '-v'"},
      // GNU-style: a value-taking option consumes the next argument, even "--".
      {{"--delegate-cmds", "--", "/bin/true"}, "option '--delegate-cmds' needs a value"},
      {{"--delegate-cmds=map_create", "--verbose=yes", "--", "/bin/true"}, "takes no value"},
      {{"--delegate-cmds=map_create", "--setenv=NOVALUE", "--", "/bin/true"}, "is not KEY=VALUE"},
      {{"--delegate-cmds=map_create", "--setenv==x", "--", "/bin/true"}, "is invalid"},
      {{"--delegate-cmds=map_create", "--rlimit=files=8", "--", "/bin/true"},
       "no resource limit is called 'files'"},
      {{"--delegate-cmds=map_create", "--rlimit=nofile=64:32", "--", "/bin/true"},
       "the soft limit exceeds the hard limit"},
      {{"--delegate-cmds=map_create", "--no-unshare-pid", "--as-pid1", "--", "/bin/true"},
       "only in a new pid namespace"},
      // The filesystem view: bubblewrap's operations, and what set-up refuses of them.
      {{"--delegate-cmds=map_create", "--bind", "/usr", "--", "/bin/true"},
       "option '--bind' needs two values, each after a space"},
      {{"--delegate-cmds=map_create", "--ro-bind=/usr", "/usr", "--", "/bin/true"},
       "option '--ro-bind' needs two values"},
      {{"--delegate-cmds=map_create", "--tmpfs", "/", "--", "/bin/true"},
       "only --remount-ro may name / itself"},
      {{"--delegate-cmds=map_create", "--symlink", "/etc", "relative", "--", "/bin/true"},
       "mount destination 'relative'"},
      {{"--delegate-cmds=map_create", "--no-unshare-pid", "--proc", "/proc", "--", "/bin/true"},
       "needs the sandbox's pid namespace"},
      {{"--delegate-cmds=map_create", "--delegate-maps=array", "--bind", "/no/such/source",
        "/tmp/x", "--", "/bin/true"},
       "the bind source /no/such/source must exist on the host"},
      {{"--delegate-cmds=map_create", "--delegate-maps=array", "--dir", "/no-such-top/x", "--",
        "/bin/true"},
       "never on the host"},
      // Cgroup limits.
      {{"--delegate-cmds=map_create", "--memory-max=12X", "--", "/bin/true"},
       "--memory-max: '12X' is not a size"},
      {{"--delegate-cmds=map_create", "--memory-max=99999999999T", "--", "/bin/true"},
       "is not a size"},
      {{"--delegate-cmds=map_create", "--memory-max=512K", "--", "/bin/true"},
       "the memory limit must be at least 1 MiB"},
      {{"--delegate-cmds=map_create", "--pids-max=2", "--", "/bin/true"},
       "the pids limit must be at least 3"},
      {{"--delegate-cmds=map_create", "--pids-max=-1", "--", "/bin/true"}, "is not a number"},
      {{"--delegate-cmds=map_create", "--cpu-max=0", "--", "/bin/true"},
       "the CPU limit must be 1 to 100000 percent"},
      {{"--delegate-cmds=map_create", "--cpu-max=100001", "--", "/bin/true"},
       "is not a number up to 100000"},
      // What would reach beyond the sandbox, unless named.
      {{"--delegate-cmds=prog_load", "--delegate-progs=sk_lookup", "--share-net", "--",
        "/bin/true"},
       "sk_lookup attach to a network namespace, and the sandbox shares the host's"},
      {{"--delegate-cmds=prog_load", "--delegate-progs=cgroup_skb", "--share-cgroup", "--",
        "/bin/true"},
       "cgroup_skb attach to cgroups, and the sandbox shares the host's cgroup namespace"},
      {{"--delegate-cmds=prog_load", "--delegate-progs=any", "--keep-caps=perfmon", "--",
        "/bin/true"},
       "say so with --allow-host-tracing"},
      {{"--delegate-cmds=map_create", "--keep-caps=sys_admin", "--", "/bin/true"},
       "say so with --allow-sys-admin"},
      {{"--delegate-cmds=map_create", "--uid=0", "--", "/bin/true"},
       "say so with --allow-host-root"},
      {{"--delegate-cmds=map_create", "--map-groups=0:0:1", "--", "/bin/true"},
       "the id maps include host uid or gid 0"},
      // A huge argument and bytes that are not UTF-8: still one short, printable line.
      {{"--delegate-progs=" + kHuge, "--", "/bin/true"}, "(130048 bytes)"},
      {{"--delegate-progs=xdp:" + kHuge, "--", "/bin/true"}, "(130048 bytes)"},
      {{"--" + kHuge, "--", "/bin/true"}, "bytes)'"},
      {{"--delegate-cmds=map_create", "--map-users=" + kHuge, "--", "/bin/true"}, "bytes)"},
      {{"--delegate-progs=\xff\xfe\x80", "--", "/bin/true"}, "'\\xff\\xfe\\x80'"},
      {{"--delegate-cmds=map_create", "--bpffs=\xc3\x28", "--", "/bin/true"}, "\\xc3("},
  };
}

// Runs `tokenbox run ARGS -- /bin/true MARKER` and checks that it failed with exit 125 and that
// nothing of it is left: no process with the marker, no child of this test, no new mount.
CommandResult RunAndCheckNothingLeft(const std::vector<std::string>& args) {
  const std::string marker = absl::StrCat("tokenbox_bad_input_marker_", getpid());
  const std::set<std::string> mounts_before = testing::MountTable();
  std::vector<std::string> argv = {"tools/tokenbox", "run"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--", "/bin/true", marker});
  CommandResult r = RunCommand(argv, {.timeout = absl::Seconds(20)});
  INFO(absl::StrJoin(args, " "), " <- ", r.err.substr(0, 300));
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 125);
  CHECK(testing::CountLines(r.err) == 1);
  CHECK_FALSE(testing::ProcessWithArgument(marker));
  errno = 0;
  CHECK((waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD));
  const std::vector<std::string> mounts_left = testing::MountsLeftSince(mounts_before);
  INFO("mounts left: ", absl::StrJoin(mounts_left, "\n"));
  CHECK(mounts_left.empty());
  return r;
}

TEST_CASE("Malformed input gets one clear, printable line and exit 125, and starts nothing") {
  for (const BadInput& c : Cases()) {
    std::vector<std::string> argv = {"tools/tokenbox", "run"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    CommandResult r = RunCommand(argv, {.timeout = absl::Seconds(20)});
    INFO(c.error, " <- ", r.err.substr(0, 300));
    CHECK_FALSE(r.timed_out);
    CHECK(r.signal == 0);
    CHECK(r.exit_code == 125);
    CHECK(testing::CountLines(r.err) == 1);
    CHECK(r.err.rfind("tokenbox run: ", 0) == 0);
    CHECK(Contains(r.err, c.error));
    CHECK(r.err.size() < 400);
    for (unsigned char ch : r.err) {
      if (ch != '\n') CHECK((ch >= 0x20 && ch < 0x7f));
    }
    CHECK(r.out.empty());
  }
}

TEST_CASE("Rejected input leaves no process, child or mount behind") {
  // One of each kind: policy, id map, id, timeout, option combination.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--delegate-maps=hash:hash"},
           {"--delegate-cmds=map_create", "--map-users=0:1000:10,5:2000:10"},
           {"--delegate-cmds=map_create", "--gid=4294967296"},
           {"--delegate-cmds=map_create", "--timeout=0"},
           {"--delegate-cmds=map_create", "--no-unshare-pid", "--as-pid1"}}) {
    RunAndCheckNothingLeft(args);
  }
}

TEST_CASE("A bpffs path that does not exist or is a file fails at its step, exit 125") {
  TB_REQUIRE_PRIVILEGE();
  // These get as far as the sandbox's child, its namespaces and the delegated bpffs: each run
  // is also checked for what it might leave behind.
  for (const char* path : {"/no/such/dir", "/etc/passwd"}) {
    INFO(path);
    CommandResult r = RunAndCheckNothingLeft(
        {"--delegate-cmds=map_create", "--delegate-maps=array", absl::StrCat("--bpffs=", path)});
    CHECK(Contains(r.err, "sandbox set-up failed at 'mount delegated bpffs': "));
    CHECK(Contains(r.err, absl::StrCat("\"", path, "\"")));
  }
}

TEST_CASE("A huge program path, or one not in UTF-8, is reported short and printable") {
  TB_REQUIRE_PRIVILEGE();
  for (const std::string& program : {"/" + kHuge, std::string("/tmp/\xff\xfe-no-such")}) {
    CommandResult r = RunCommand({"tools/tokenbox", "run", "--delegate-cmds=map_create",
                                  "--delegate-maps=array", "--", program});
    CHECK((r.exit_code == 127 || r.exit_code == 125));
    CHECK(testing::CountLines(r.err) == 1);
    CHECK(r.err.size() < 1200);
    for (unsigned char ch : r.err) {
      if (ch != '\n') CHECK((ch >= 0x20 && ch < 0x7f));
    }
  }
}

}  // namespace
}  // namespace tokenbox
