#include "ns/pipe.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "ns/errno_status.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::CountOpenFds;

bool IsCloexec(int fd) { return (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0; }

TEST_CASE("MakePipe gives a working pipe whose two ends are close-on-exec") {
  auto pipe = MakePipe();
  TB_REQUIRE_OK(pipe);
  CHECK(IsCloexec(pipe->read_end.get()));
  CHECK(IsCloexec(pipe->write_end.get()));
  REQUIRE(write(pipe->write_end.get(), "abc", 3) == 3);
  pipe->write_end.Reset();
  char buffer[8];
  CHECK(read(pipe->read_end.get(), buffer, sizeof(buffer)) == 3);
  CHECK(std::string(buffer, 3) == "abc");
  // Closing the only write end is what lets the reader see end-of-file.
  CHECK(read(pipe->read_end.get(), buffer, sizeof(buffer)) == 0);
}

TEST_CASE("A Pipe closes both its ends when destroyed") {
  const int before = CountOpenFds();
  {
    auto pipe = MakePipe();
    TB_REQUIRE_OK(pipe);
    CHECK(CountOpenFds() == before + 2);
  }
  CHECK(CountOpenFds() == before);
}

TEST_CASE("MakePipe at the fd limit fails with EMFILE and names pipe2") {
  // In a child: lowering RLIMIT_NOFILE in the test process would break everything after it.
  absl::Status status = RunInChild([]() -> absl::Status {
    rlimit none = {0, 0};
    if (setrlimit(RLIMIT_NOFILE, &none) != 0) {
      return ErrnoStatus(errno, "setrlimit(RLIMIT_NOFILE, 0)");
    }
    return MakePipe().status();
  });
  CHECK(ErrnoOf(status) == EMFILE);
  CHECK(testing::Contains(std::string(status.message()),
                          "pipe2(O_CLOEXEC): EMFILE (Too many open files): this process is at its "
                          "fd limit (RLIMIT_NOFILE)"));
}

}  // namespace
}  // namespace tokenbox
