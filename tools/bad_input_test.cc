// Every malformed input a user could type into `tokenbox run` gets one clear line on stderr and
// exit 125, and nothing starts: no crash, no hang, nothing half set up.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/command_runner.h"
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
      {{"--delegate-maps=hash:hash", "--", "/bin/true"}, "repeats map type"},
      {{"--delegate-progs=xdp:XDP", "--", "/bin/true"}, "repeats program type"},
      {{"--delegate-cmds=map_create", "--delegate-cmds=prog_load", "--", "/bin/true"}, "given twice"},
      {{"--delegate-cmds=0x8000000000000000", "--", "/bin/true"}, "sets bits beyond"},
      {{"--delegate-cmds=0x10000000000000000", "--", "/bin/true"}, "is not a valid number"},
      {{"--delegate-maps=18446744073709551616", "--", "/bin/true"}, "is not a valid number"},
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
      {{"--delegate-cmds=map_create", "--no-unshare-pid", "--as-pid1", "--", "/bin/true"},
       "only in a new pid namespace"},
      // A huge argument and bytes that are not UTF-8: still one short, printable line.
      {{"--delegate-progs=" + kHuge, "--", "/bin/true"}, "(130048 bytes)"},
      {{"--delegate-progs=xdp:" + kHuge, "--", "/bin/true"}, "(130048 bytes)"},
      {{"--" + kHuge, "--", "/bin/true"}, "bytes)'"},
      {{"--delegate-cmds=map_create", "--map-users=" + kHuge, "--", "/bin/true"}, "bytes)"},
      {{"--delegate-progs=\xff\xfe\x80", "--", "/bin/true"}, "'\\xff\\xfe\\x80'"},
      {{"--delegate-cmds=map_create", "--bpffs=\xc3\x28", "--", "/bin/true"}, "\\xc3("},
  };
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

TEST_CASE("A bpffs path that does not exist or is a file fails at its step, exit 125") {
  TB_REQUIRE_PRIVILEGE();
  for (const char* path : {"/no/such/dir", "/etc/passwd"}) {
    INFO(path);
    CommandResult r = RunCommand({"tools/tokenbox", "run", "--delegate-cmds=map_create",
                                  "--delegate-maps=array", absl::StrCat("--bpffs=", path), "--",
                                  "/bin/true"});
    CHECK(r.exit_code == 125);
    CHECK(testing::CountLines(r.err) == 1);
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
