// The tokenbox_test rule's runner (tools/tokenbox_test_runner.sh), run as Bazel runs it, with a
// stand-in test: while the test runs, another host user cannot reach its stage (its outputs,
// its TEST_TMPDIR); afterwards Bazel's outputs directory holds what the test wrote, and not the
// symlinks it left (to a root-only file, to a root-only directory), nor a FIFO.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ns/pipe.h"
#include "ns/unique_fd.h"
#include "tests/command_runner.h"
#include "tests/process_state.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::CommandResult;
using ::tokenbox::testing::Contains;
using ::tokenbox::testing::RunCommand;
using ::tokenbox::testing::StagedFiles;

// The stand-in test: says where its outputs are, waits until its stdin ends, then leaves a file,
// a directory with a file, links to what only root may read, a FIFO, and a hard link of its
// own file, which is no way out: the outputs are a mount of their own, and link() across
// mounts fails.
constexpr char kStandInTest[] = R"(#!/bin/sh
echo "outputs=$TEST_UNDECLARED_OUTPUTS_DIR tmp=$TEST_TMPDIR"
read -r _
echo result > "$TEST_UNDECLARED_OUTPUTS_DIR/result.txt"
mkdir "$TEST_UNDECLARED_OUTPUTS_DIR/logs" && echo log > "$TEST_UNDECLARED_OUTPUTS_DIR/logs/run.log"
ln -s /etc/shadow "$TEST_UNDECLARED_OUTPUTS_DIR/shadow"
ln -s /root "$TEST_UNDECLARED_OUTPUTS_DIR/root-home"
mkfifo "$TEST_UNDECLARED_OUTPUTS_DIR/fifo"
ln "$TEST_UNDECLARED_OUTPUTS_DIR/result.txt" "$TEST_UNDECLARED_OUTPUTS_DIR/hard-link"
ln /etc/shadow "$TEST_UNDECLARED_OUTPUTS_DIR/shadow-hard" 2>/dev/null && echo "LINKED SHADOW"
exit 0
)";

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

TEST_CASE("The test rule's stage is the runner's alone, and links the test leaves are not followed") {
  TB_REQUIRE_PRIVILEGE();
  // What Bazel gives a test: runfiles (here, the stand-in), a workspace name, an outputs
  // directory.
  StagedFiles bazel;
  const std::string runfiles = bazel.dir() + "/runfiles";
  const std::string bazel_outputs = bazel.dir() + "/undeclared";
  REQUIRE(mkdir(runfiles.c_str(), 0755) == 0);
  REQUIRE(mkdir((runfiles + "/ws").c_str(), 0755) == 0);
  REQUIRE(mkdir(bazel_outputs.c_str(), 0755) == 0);
  {
    StagedFiles written;
    const std::string script = written.Write("stand_in_test", kStandInTest, 0755);
    REQUIRE(RunCommand({"/bin/cp", script, runfiles + "/ws/stand_in_test"}).exit_code == 0);
  }
  char cwd[4096];
  REQUIRE(getcwd(cwd, sizeof(cwd)) != nullptr);
  const std::vector<std::string> argv = {
      "/bin/bash", "tools/tokenbox_test_runner.sh", std::string(cwd) + "/tools/tokenbox",
      "stand_in_test", "--delegate-cmds=map_create", "--delegate-maps=array", "--"};
  const std::vector<std::string> env = {
      "PATH=/usr/bin:/bin", "RUNFILES_DIR=" + runfiles, "TEST_WORKSPACE=ws",
      "TEST_UNDECLARED_OUTPUTS_DIR=" + bazel_outputs};

  absl::StatusOr<Pipe> in = MakePipe();
  absl::StatusOr<Pipe> out = MakePipe();
  absl::StatusOr<Pipe> err = MakePipe();
  REQUIRE(in.ok());
  REQUIRE(out.ok());
  REQUIRE(err.ok());
  std::vector<char*> args, envp;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  args.push_back(nullptr);
  envp.push_back(nullptr);
  const pid_t runner = fork();
  REQUIRE(runner >= 0);
  if (runner == 0) {
    dup2(in->read_end.get(), 0);
    dup2(out->write_end.get(), 1);
    dup2(err->write_end.get(), 2);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  in->read_end.Reset();
  out->write_end.Reset();
  err->write_end.Reset();

  // Its first line, while it waits: where its stage is on the host.
  std::string first;
  for (char c; first.find('\n') == std::string::npos && read(out->read_end.get(), &c, 1) == 1;) {
    first += c;
  }
  INFO(first);
  const size_t outputs_at = first.find("outputs="), tmp_at = first.find(" tmp=");
  REQUIRE(outputs_at != std::string::npos);
  REQUIRE(tmp_at != std::string::npos);
  const std::string stage_outputs = first.substr(outputs_at + 8, tmp_at - outputs_at - 8);
  const std::string stage_tmp = first.substr(tmp_at + 5, first.find('\n') - tmp_at - 5);
  CHECK(stage_outputs.rfind("/tmp/tokenbox-bazel-test.", 0) == 0);
  // Another user of the host can write into neither, nor list the stage.
  for (const std::string& dir : {stage_outputs, stage_tmp}) {
    CommandResult intruder = RunCommand({"/bin/sh", "-c", "echo planted > \"$0/planted\"", dir},
                                        {.uid = 65534});
    CHECK(intruder.exit_code != 0);
    CHECK(Contains(intruder.err, "Permission denied"));
  }
  CHECK(RunCommand({"/bin/ls", stage_outputs.substr(0, stage_outputs.rfind('/'))}, {.uid = 65534})
            .exit_code != 0);

  in->write_end.Reset();  // The test goes on.
  std::string rest, errors;
  char buffer[4096];
  for (ssize_t n; (n = read(out->read_end.get(), buffer, sizeof(buffer))) > 0;) rest.append(buffer, n);
  for (ssize_t n; (n = read(err->read_end.get(), buffer, sizeof(buffer))) > 0;) errors.append(buffer, n);
  int status = 0;
  REQUIRE(waitpid(runner, &status, 0) == runner);
  INFO(errors);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(testing::ReadProcFile(bazel_outputs + "/result.txt") == "result\n");
  CHECK(testing::ReadProcFile(bazel_outputs + "/logs/run.log") == "log\n");
  CHECK(testing::ReadProcFile(bazel_outputs + "/hard-link") == "result\n");
  CHECK_FALSE(Contains(rest, "LINKED SHADOW"));
  for (const char* left_out : {"shadow", "root-home", "fifo"}) {
    CHECK_FALSE(Exists(bazel_outputs + "/" + left_out));
    CHECK(Contains(errors, absl::StrCat("tokenbox_test: left out of the test's outputs: ",
                                        left_out, " (not a directory or regular file")));
  }
  CHECK_FALSE(Exists(stage_outputs));  // The stage is removed.
}

}  // namespace
}  // namespace tokenbox
