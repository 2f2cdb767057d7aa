#include "tools/fuzzer_output.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/time/clock.h"
#include "ns/pipe.h"
#include "ns/unique_fd.h"
#include "tests/command_runner.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

TEST_CASE("FuzzerOutput finds the error and the artifact, line by line, in any chunking") {
  const std::string text =
      "INFO: Seed: 1\n==7== ERROR: libFuzzer: deadly signal\nartifact_prefix='a/'; Test unit "
      "written to a/crash-1\nlast line without newline";
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{4096}}) {
    CAPTURE(chunk);
    FuzzerOutput output;
    for (size_t at = 0; at < text.size(); at += chunk) output.Feed(text.substr(at, chunk));
    output.Finish();
    CHECK(output.error() == "==7== ERROR: libFuzzer: deadly signal");
    CHECK(output.artifact() == "a/crash-1");
  }
}

// A 16 MiB line without a newline, kept whole and rescanned on every read, would cost 20 MiB of
// root's memory and quadratic time.
TEST_CASE("FuzzerOutput keeps at most kMaxLine bytes of a line, and still sees the next ones") {
  FuzzerOutput output;
  const std::string megabyte(1 << 20, 'a');
  const absl::Time started = absl::Now();
  for (int i = 0; i < 16; ++i) output.Feed(megabyte);
  output.Feed("\n==1== ERROR: AddressSanitizer: heap-use-after-free\n");
  CHECK(absl::Now() - started < absl::Seconds(20));  // Linear; quadratic would take hours.
  CHECK(output.error() == "==1== ERROR: AddressSanitizer: heap-use-after-free");
  FuzzerOutput overlong;
  overlong.Feed(std::string(FuzzerOutput::kMaxLine, 'x') + " ERROR: past the bound\n");
  CHECK(overlong.error().empty());
}

// Reading until every holder of the fuzzer's stderr has closed it, tokenbox fuzz would wait on
// whatever process outlives its sandbox that the fuzzer handed it to.
TEST_CASE("CopyUntilSandboxEnds returns when the sandbox ends, whoever else holds the pipe") {
  auto err = MakePipe();
  REQUIRE(err.ok());
  pid_t sandbox = fork();
  REQUIRE(sandbox >= 0);
  if (sandbox == 0) {
    (void)!write(err->write_end.get(), "last words\n", 11);
    _exit(0);
  }
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, sandbox, 0)));
  REQUIRE(pidfd);
  // This process still holds the write end, as another sandbox could.
  UniqueFd sink(open("/dev/null", O_WRONLY | O_CLOEXEC));
  FuzzerOutput output;
  const absl::Time started = absl::Now();
  CHECK(CopyUntilSandboxEnds(err->read_end.get(), sink.get(), pidfd.get(),
                             started + absl::Seconds(30), output)
            .ok());
  CHECK(absl::Now() - started < absl::Seconds(10));
  output.Finish();
  int status;
  CHECK(waitpid(sandbox, &status, 0) == sandbox);
  CHECK(err->write_end.valid());
}

// The crash report must not repeat whatever path the fuzzer prints.
TEST_CASE("ArtifactInside accepts only a regular file in an artifact directory") {
  testing::StagedFiles files;
  char resolved[PATH_MAX];
  REQUIRE(realpath(files.dir().c_str(), resolved) != nullptr);
  const std::string dir = resolved;
  files.Write("crash-1", "x", 0644);
  REQUIRE(symlink("/etc/shadow", (dir + "/crash-link").c_str()) == 0);
  mkdir((dir + "/sub").c_str(), 0755);
  const std::vector<std::string> dirs = {dir};
  CHECK(ArtifactInside(dir + "/crash-1", "/", dirs) == dir + "/crash-1");
  CHECK(ArtifactInside("crash-1", dir, dirs) == dir + "/crash-1");
  CHECK(ArtifactInside(dir + "/sub/../crash-1", "/", dirs) == dir + "/crash-1");
  CHECK_FALSE(ArtifactInside("/etc/shadow", dir, dirs).has_value());
  CHECK_FALSE(ArtifactInside(dir + "/sub/../../crash-1", "/", dirs).has_value());
  CHECK_FALSE(ArtifactInside(dir + "/crash-link", "/", dirs).has_value());
  CHECK_FALSE(ArtifactInside(dir + "/missing", "/", dirs).has_value());
  CHECK_FALSE(ArtifactInside(dir + "/sub", "/", dirs).has_value());
  CHECK_FALSE(ArtifactInside("", dir, dirs).has_value());
  unlink((dir + "/crash-link").c_str());
  rmdir((dir + "/sub").c_str());
}

}  // namespace
}  // namespace tokenbox
