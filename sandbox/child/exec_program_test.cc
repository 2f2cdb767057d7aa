// Every way an exec can fail, explained. These run without root: each exec fails and returns.
#include "sandbox/child/exec_program.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "tests/command_runner.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

std::string MessageOf(const absl::Status& status) { return std::string(status.message()); }

TEST_CASE("A program path that does not exist is 'not found'") {
  absl::Status status = ExecProgram({"/no/such/program"}, {}, 65534);
  CHECK(ErrnoOf(status) == ENOENT);
  CHECK(absl::StrContains(MessageOf(status), "execve(/no/such/program)"));
  CHECK(absl::StrContains(MessageOf(status), "program not found: '/no/such/program' does not exist inside the sandbox"));
  CHECK_FALSE(absl::StrContains(MessageOf(status), "PATH"));
}

TEST_CASE("A name is searched in the environment's PATH, and closed directories are named") {
  testing::StagedFiles files;
  std::string closed = files.path("closed");
  REQUIRE(mkdir(closed.c_str(), 0700) == 0);
  std::string path = absl::StrCat("PATH=/no/such/dir:", closed);
  absl::Status status = ExecProgram({"tokenbox-no-such-program"}, {path}, 65534);
  CHECK(ErrnoOf(status) == ENOENT);
  CHECK(absl::StrContains(MessageOf(status), "or in its PATH"));
  if (geteuid() != 0) {
    // Root searches any directory; for anyone else the closed one is named.
    CHECK(absl::StrContains(MessageOf(status), absl::StrCat("cannot search: ", closed)));
  }
  rmdir(closed.c_str());
}

TEST_CASE("A file without the execute bit is 'not executable by the sandbox's user'") {
  testing::StagedFiles files;
  std::string script = files.Write("no_exec_bit", "#!/bin/sh\n", 0644);
  absl::Status status = ExecProgram({script}, {}, 4242);
  CHECK(ErrnoOf(status) == EACCES);
  CHECK(absl::StrContains(MessageOf(status), "is not executable by the sandbox's user (host uid 4242)"));
  // In a PATH search the same file counts as found, not missing.
  absl::Status searched = ExecProgram({"no_exec_bit"}, {"PATH=" + files.path("")}, 4242);
  CHECK(ErrnoOf(searched) == EACCES);
}

TEST_CASE("A script whose interpreter is missing says so, not 'not found'") {
  testing::StagedFiles files;
  std::string script = files.Write("orphan_script", "#!/no/such/interpreter\n", 0755);
  absl::Status status = ExecProgram({script}, {}, 65534);
  CHECK(ErrnoOf(status) == ENOENT);
  CHECK(absl::StrContains(MessageOf(status), "the interpreter on its #! line"));
  CHECK_FALSE(absl::StrContains(MessageOf(status), "program not found"));
}

TEST_CASE("A file in no executable format is ENOEXEC, with a hint") {
  testing::StagedFiles files;
  std::string text = files.Write("no_shebang", "echo this is not a binary\n", 0755);
  absl::Status status = ExecProgram({text}, {}, 65534);
  CHECK(ErrnoOf(status) == ENOEXEC);
  CHECK(absl::StrContains(MessageOf(status), "a script without #!?"));
}

}  // namespace
}  // namespace tokenbox
