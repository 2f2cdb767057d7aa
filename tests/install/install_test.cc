// tools/install/install.sh for real, as tools/dev install runs it: into a prefix and a
// sysconfdir of the test's own (never the machine's), with the files Bazel built; then used as
// an administrator and a linking program would; then removed, down to what was there before.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/command_runner.h"
#include "tests/process_state.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::CommandResult;
using ::tokenbox::testing::Concat;
using ::tokenbox::testing::Contains;
using ::tokenbox::testing::ReadProcFile;
using ::tokenbox::testing::RunCommand;
using ::tokenbox::testing::StagedFiles;

// A prefix of the test's own, which already holds an empty bin/ (as /usr/local does): install
// puts files in it, and uninstall must leave it.
struct Prefix {
  StagedFiles staged;
  std::string dir = staged.dir();
  std::string etc = dir + "/etc";
  std::string policy = etc + "/tokenbox/delegation.conf";
  std::string manifest = dir + "/share/tokenbox/installed-files";

  Prefix() { mkdir((dir + "/bin").c_str(), 0755); }

  // The script, from the test's runfiles (the built files and the sources side by side).
  CommandResult Run(const std::string& action, const std::vector<std::string>& extra = {},
                    const testing::CommandOptions& options = {}) const {
    std::vector<std::string> argv = {"/bin/bash", "tools/install/install.sh", action,
                                     "--prefix=" + dir, "--no-start"};
    if (action == "install") {
      argv.push_back("--sysconfdir=" + etc);
      argv.push_back("--from=.");
    }
    return RunCommand(Concat(argv, extra), options);
  }
};

// The archive is built as this test is: a sanitized one needs the sanitizers' runtimes linked.
#if defined(__SANITIZE_ADDRESS__)
constexpr char kSanitizers[] = "-fsanitize=address,undefined";
#else
constexpr char kSanitizers[] = "";
#endif

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

mode_t ModeOf(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

// What is left under `dir`, one path a line, sorted.
std::string Tree(const std::string& dir) {
  return RunCommand({"/bin/sh", "-c", "cd \"$0\" && find . | sort", dir}).out;
}

TEST_CASE("An install puts each file in place, root's, with a policy that grants nothing") {
  TB_REQUIRE_PRIVILEGE();
  Prefix prefix;
  CommandResult r = prefix.Run("install");
  INFO(r.out, r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(Contains(r.out, "wrote " + prefix.policy + ", which grants nothing"));
  CHECK(ModeOf(prefix.dir + "/bin/tokenbox") == 0755);
  CHECK(ModeOf(prefix.dir + "/sbin/tokenboxd") == 0755);
  CHECK(ModeOf(prefix.dir + "/lib/libtokenbox.a") == 0644);
  CHECK(ModeOf(prefix.dir + "/include/tokenbox/sandbox/launcher.h") == 0644);
  // The headers the public ones include come along; internal ones do not.
  CHECK(Exists(prefix.dir + "/include/tokenbox/token/delegation_policy.h"));
  CHECK_FALSE(Exists(prefix.dir + "/include/tokenbox/sandbox/parent_setup.h"));
  CHECK(ModeOf(prefix.policy) == 0644);
  CHECK(Contains(ReadProcFile(prefix.policy), "\n*  -\n"));
  CHECK(Contains(ReadProcFile(prefix.dir + "/lib/systemd/system/tokenboxd.service"),
                 absl::StrCat("\nExecStart=", prefix.dir, "/sbin/tokenboxd --policy=",
                              prefix.policy, "\n")));
  CHECK(Contains(ReadProcFile(prefix.dir + "/lib/pkgconfig/tokenbox.pc"),
                 absl::StrCat("prefix=", prefix.dir, "\n")));
  // The installed tokenbox finds the installed tokenboxd, which accepts the example policy.
  CommandResult check = RunCommand({prefix.dir + "/bin/tokenbox", "policy", "check", prefix.policy});
  INFO(check.err);
  CHECK(check.exit_code == 0);
  CHECK(check.out == prefix.policy + ": 1 grant, valid\n");
  CHECK(prefix.Run("uninstall").exit_code == 0);
}

TEST_CASE("Where systemd is not pid 1, install says how to start tokenboxd") {
  TB_REQUIRE_PRIVILEGE();
  if (Exists("/run/systemd/system")) {
    // Here install would enable the machine's own tokenboxd.socket: this case is for machines
    // without systemd, such as CI's container.
    if (testing::RunningUnderCi()) FAIL("systemd runs here: install would start its tokenboxd");
    testing::RecordRuntimeSkip("systemd runs here");
    return;
  }
  Prefix prefix;
  std::vector<std::string> argv = {"/bin/bash", "tools/install/install.sh", "install",
                                   "--prefix=" + prefix.dir, "--sysconfdir=" + prefix.etc,
                                   "--from=."};
  CommandResult r = RunCommand(argv);
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.out, absl::StrCat("systemd is not pid 1 here, so nothing starts tokenboxd: start "
                                     "it as root (", prefix.dir, "/sbin/tokenboxd --policy=",
                                     prefix.policy)));
  CHECK(prefix.Run("uninstall").exit_code == 0);
}

TEST_CASE("A program links the installed library with pkg-config's flags, and launches a sandbox") {
  TB_REQUIRE_PRIVILEGE();
  Prefix prefix;
  REQUIRE(prefix.Run("install").exit_code == 0);
  const std::string program = prefix.staged.dir() + "/linked";
  CommandResult built = RunCommand(
      {"/bin/sh", "-c",
       "PKG_CONFIG_PATH=\"$0/lib/pkgconfig\" && export PKG_CONFIG_PATH && "
       "g++ -std=c++17 $2 -o \"$1\" tests/install/linked_program.cc "
       "$(pkg-config --cflags --libs tokenbox)",
       prefix.dir, program, kSanitizers},
      {.timeout = absl::Seconds(120)});
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  CommandResult ran = RunCommand({program});
  INFO(ran.err);
  CHECK(ran.exit_code == 0);
  CHECK(ran.out == "exited with code 7\n");
  unlink(program.c_str());
  CHECK(prefix.Run("uninstall").exit_code == 0);
}

TEST_CASE("Installing again changes nothing; uninstall removes it all, and only what it made") {
  TB_REQUIRE_PRIVILEGE();
  Prefix prefix;
  const std::string before = Tree(prefix.dir);
  REQUIRE(prefix.Run("install").exit_code == 0);
  const std::string installed = Tree(prefix.dir);
  const std::string listed = ReadProcFile(prefix.manifest);
  REQUIRE(prefix.Run("install").exit_code == 0);
  CHECK(Tree(prefix.dir) == installed);
  CHECK(ReadProcFile(prefix.manifest) == listed);
  CommandResult removed = prefix.Run("uninstall");
  CHECK(removed.exit_code == 0);
  CHECK(Tree(prefix.dir) == before);  // bin/ was there before, and stays.
  CommandResult again = prefix.Run("uninstall");
  CHECK(again.exit_code == 1);
  CHECK(again.err == absl::StrCat("tools/dev uninstall: nothing to uninstall: ", prefix.manifest,
                                  " does not exist\n"));
}

TEST_CASE("A policy the administrator wrote or edited is kept by install and uninstall") {
  TB_REQUIRE_PRIVILEGE();
  Prefix prefix;
  REQUIRE(prefix.Run("install").exit_code == 0);
  {
    std::ofstream(prefix.policy, std::ios::app) << "root cmds=map_create maps=array\n";
  }
  const std::string edited = ReadProcFile(prefix.policy);
  CommandResult reinstalled = prefix.Run("install");
  CHECK(reinstalled.exit_code == 0);
  CHECK(Contains(reinstalled.out, "kept the policy " + prefix.policy + " as it is"));
  CHECK(ReadProcFile(prefix.policy) == edited);
  CommandResult removed = prefix.Run("uninstall");
  CHECK(removed.exit_code == 0);
  CHECK(ReadProcFile(prefix.policy) == edited);
  CHECK_FALSE(Exists(prefix.dir + "/bin/tokenbox"));
}

TEST_CASE("Bad arguments, and a caller who is not root, get one line and change nothing") {
  TB_REQUIRE_PRIVILEGE();
  Prefix prefix;
  const std::string before = Tree(prefix.dir);
  struct Case {
    std::vector<std::string> argv;
    int exit_code;
    std::string err;
  };
  const std::string script = "tools/install/install.sh";
  const Case cases[] = {
      {{script}, 2, "tools/dev install: give install or uninstall (see tools/dev --help)\n"},
      {{script, "install", "--prefix=relative", "--from=."}, 2,
       "tools/dev install: --prefix takes an absolute path, not 'relative' (see tools/dev "
       "--help)\n"},
      {{script, "install", "--prefix=" + prefix.dir, "--bogus"}, 2,
       "tools/dev install: unknown argument '--bogus' (see tools/dev --help)\n"},
      {{script, "install", "--prefix=" + prefix.dir, "--sysconfdir=" + prefix.etc}, 2,
       "tools/dev install: give --from=ROOT, where the built files are (see tools/dev --help)\n"},
      {{script, "install", "--prefix=" + prefix.dir, "--sysconfdir=" + prefix.etc,
        "--from=/nonexistent"},
       1,
       "tools/dev install: tools/tokenbox is in none of /nonexistent (build it first: tools/dev "
       "install builds everything)\n"},
  };
  for (const Case& c : cases) {
    CommandResult r = RunCommand(Concat({"/bin/bash"}, c.argv));
    INFO(c.argv.back());
    CHECK(r.exit_code == c.exit_code);
    CHECK(r.err == c.err);
  }
  // As a user who is not root, from a copy that user can read (the runfiles are root's).
  testing::StagedFiles copy({script});
  CommandResult user = RunCommand({"/bin/bash", copy.path("install.sh"), "install",
                                   "--prefix=" + prefix.dir, "--from=."},
                                  {.uid = 65534});
  CHECK(user.exit_code == 1);
  CHECK(Contains(user.err, "needs root"));
  CHECK(testing::CountLines(user.err) == 1);
  CHECK(Tree(prefix.dir) == before);
}

}  // namespace
}  // namespace tokenbox
