// `tokenbox fuzz` with a stand-in fuzzer (tests/stand_in_fuzzer.h): the corpus and artifact
// directories are writable, nothing else of the host is, a crash is reported with its input,
// and libFuzzer's exit code passes through.
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tests/command_runner.h"
#include "tests/stand_in_fuzzer.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::CommandResult;
using ::tokenbox::testing::Contains;
using ::tokenbox::testing::RunCommand;
using ::tokenbox::testing::StagedFiles;

// A fuzzer that lies in its report: its artifact line names a host file
// and its error line carries terminal escape sequences. It also shows its environment.
constexpr char kLyingFuzzer[] = "#!/bin/sh\n"
                                "echo \"HOME=$HOME FROM_TOKENBOX=$FROM_TOKENBOX\" >&2\n"
                                "printf '==2== ERROR: \\033]0;owned\\007\\033[2Jcleared\\n' >&2\n"
                                "echo 'Test unit written to /etc/shadow' >&2\n"
                                "exit 77\n";

struct FuzzDirs {
  StagedFiles files;
  std::string fuzzer, corpus, artifacts;
  explicit FuzzDirs(const char* script = testing::kStandInFuzzer) {
    fuzzer = files.Write("fake_fuzzer", script, 0755);
    corpus = files.path("corpus");
    artifacts = files.path("artifacts");
    mkdir(corpus.c_str(), 0777);
    mkdir(artifacts.c_str(), 0777);
    chmod(corpus.c_str(), 0777);
    chmod(artifacts.c_str(), 0777);
  }
  ~FuzzDirs() {
    unlink((corpus + "/new-entry").c_str());
    unlink((artifacts + "/crash-1234").c_str());
    rmdir(corpus.c_str());
    rmdir(artifacts.c_str());
  }
};

CommandResult Fuzz(const FuzzDirs& dirs, std::vector<std::string> fuzzer_args,
                   std::vector<std::string> options = {}) {
  std::vector<std::string> argv = {"tools/tokenbox", "fuzz", "--delegate-cmds=map_create",
                                   "--delegate-maps=hash"};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.insert(argv.end(), {"--", dirs.fuzzer});
  argv.insert(argv.end(), fuzzer_args.begin(), fuzzer_args.end());
  return RunCommand(argv, {.timeout = absl::Seconds(60)});
}

TEST_CASE("tokenbox fuzz: corpus and artifacts writable, host not, crash reported, code passed") {
  TB_REQUIRE_PRIVILEGE();
  FuzzDirs dirs;
  CommandResult r = Fuzz(dirs, {"-artifact_prefix=" + dirs.artifacts + "/", dirs.corpus});
  INFO(r.err);
  CHECK(r.exit_code == 77);
  CHECK(Contains(r.err, "corpus writable"));
  CHECK_FALSE(Contains(r.err, "HOST WRITABLE"));
  CHECK(access("/etc/tokenbox-fuzz-escape", F_OK) != 0);
  CHECK(Contains(r.err, "cwd=" + dirs.artifacts + " tmpdir=" + dirs.artifacts));
  CHECK(Contains(r.err, "tokenbox fuzz: the fuzzer exited with code 77 after: ==2== ERROR: "
                        "libFuzzer: deadly signal; the input is saved at " +
                            dirs.artifacts + "/crash-1234\n"));
  CHECK(access((dirs.corpus + "/new-entry").c_str(), F_OK) == 0);
  CHECK(access((dirs.artifacts + "/crash-1234").c_str(), F_OK) == 0);
}

TEST_CASE("tokenbox fuzz repeats no host path and no control character the fuzzer chose") {
  TB_REQUIRE_PRIVILEGE();
  FuzzDirs dirs(kLyingFuzzer);
  CommandResult r = Fuzz(dirs, {dirs.corpus});
  INFO(r.err);
  CHECK(r.exit_code == 77);
  const std::string report = r.err.substr(r.err.find("tokenbox fuzz: "));
  CHECK(Contains(report, "tokenbox fuzz: the fuzzer exited with code 77 after: ==2== ERROR: "
                         "\\x1b]0;owned\\x07\\x1b[2Jcleared\n"));
  CHECK_FALSE(Contains(report, "/etc/shadow"));
  CHECK(report.find('\x1b') == std::string::npos);
}

TEST_CASE("tokenbox fuzz takes run's environment options") {
  TB_REQUIRE_PRIVILEGE();
  FuzzDirs dirs(kLyingFuzzer);
  CommandResult r = Fuzz(dirs, {dirs.corpus}, {"--clearenv", "--setenv=FROM_TOKENBOX=yes"});
  INFO(r.err);
  CHECK(Contains(r.err, "HOME= FROM_TOKENBOX=yes\n"));
  r = Fuzz(dirs, {dirs.corpus}, {"--setenv=FROM_TOKENBOX=yes", "--unsetenv=HOME"});
  CHECK(Contains(r.err, "HOME= FROM_TOKENBOX=yes\n"));
}

TEST_CASE("tokenbox fuzz: relative corpus and artifact paths keep their meaning") {
  TB_REQUIRE_PRIVILEGE();
  FuzzDirs dirs;
  char cwd[PATH_MAX];
  REQUIRE(getcwd(cwd, sizeof(cwd)) != nullptr);
  std::vector<std::string> argv = {"/bin/sh", "-c",
                                   "cd " + dirs.files.dir() +
                                       " && exec " + std::string(cwd) +
                                       "/tools/tokenbox fuzz --delegate-cmds=map_create "
                                       "--delegate-maps=hash -- ./fake_fuzzer "
                                       "-artifact_prefix=artifacts/ corpus"};
  CommandResult r = RunCommand(argv, {.timeout = absl::Seconds(60)});
  INFO(r.err);
  CHECK(r.exit_code == 77);
  CHECK(Contains(r.err, "the input is saved at " + dirs.artifacts + "/crash-1234"));
  CHECK(access((dirs.corpus + "/new-entry").c_str(), F_OK) == 0);
}

TEST_CASE("tokenbox fuzz refuses directories the sandbox cannot write, and a run with none") {
  TB_REQUIRE_PRIVILEGE();
  FuzzDirs dirs;
  chmod(dirs.corpus.c_str(), 0755);  // Root's, and not writable by the leased uid.
  CommandResult r = Fuzz(dirs, {dirs.corpus});
  CHECK(r.exit_code == 125);
  CHECK(Contains(r.err, "is not writable by the sandbox's host user, a uid leased for this run: "
                        "chmod 1777"));
  r = Fuzz(dirs, {dirs.corpus}, {"--uid=65534"});
  CHECK(r.exit_code == 125);
  CHECK(Contains(r.err, "is not writable by the sandbox's host user (uid 65534): chown 65534"));
  r = Fuzz(dirs, {dirs.files.path("missing")});
  CHECK(r.exit_code == 125);
  CHECK(Contains(r.err, "ENOENT"));
  r = Fuzz(dirs, {"-runs=10"});
  CHECK(r.exit_code == 125);
  CHECK(Contains(r.err, "give the fuzzer a corpus directory or -artifact_prefix=DIR/"));
  CHECK(testing::CountLines(r.err) == 1);
}

TEST_CASE("tokenbox fuzz --help documents the writable directories and exit codes") {
  CommandResult r = RunCommand({"tools/tokenbox", "fuzz", "--help"});
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.out, "-artifact_prefix="));
  CHECK(Contains(r.out, "--timeout=DURATION"));
  for (const char* limit : {"--memory-max=SIZE", "--pids-max=N", "--cpu-max=PERCENT",
                            "--rlimit=NAME=SOFT[:HARD]"}) {
    CHECK(Contains(r.out, limit));
  }
  CHECK(Contains(r.out, "Exit status"));
}

}  // namespace
}  // namespace tokenbox
