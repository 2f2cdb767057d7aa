#include "ns/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "tests/test_support.h"

namespace tokenbox {
namespace {

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

TEST_CASE("UniqueFd closes its fd when destroyed, and a moved-from one closes nothing") {
  int raw;
  {
    UniqueFd fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
    REQUIRE(fd.valid());
    raw = fd.get();
    UniqueFd moved(std::move(fd));
    CHECK_FALSE(fd.valid());
    CHECK(moved.get() == raw);
    CHECK(IsOpen(raw));
  }
  CHECK_FALSE(IsOpen(raw));
}

TEST_CASE("UniqueFd move-assignment closes the fd it held before") {
  UniqueFd a(open("/dev/null", O_RDONLY | O_CLOEXEC));
  UniqueFd b(open("/dev/null", O_RDONLY | O_CLOEXEC));
  int old_a = a.get();
  int old_b = b.get();
  a = std::move(b);
  CHECK_FALSE(IsOpen(old_a));
  CHECK(a.get() == old_b);
  CHECK(IsOpen(old_b));
}

TEST_CASE("UniqueFd::Release gives the fd up without closing it") {
  UniqueFd fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
  int raw = fd.Release();
  CHECK_FALSE(fd.valid());
  fd.Reset();
  CHECK(IsOpen(raw));
  close(raw);  // Deliberately raw: after Release this test is the fd's only owner.
}

}  // namespace
}  // namespace tokenbox
