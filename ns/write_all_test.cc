#include "ns/write_all.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <thread>

#include "ns/errno_status.h"
#include "ns/pipe.h"
#include "ns/unique_fd.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

TEST_CASE("WriteAll writes more than a pipe holds, in as many calls as it takes") {
  auto pipe = MakePipe();
  TB_REQUIRE_OK(pipe);
  const std::string data(1 << 20, 'x');  // Sixteen times a pipe's default capacity.
  std::string received;
  std::thread reader([&] {
    char buffer[4096];
    ssize_t n;
    while ((n = read(pipe->read_end.get(), buffer, sizeof(buffer))) > 0) {
      received.append(buffer, static_cast<size_t>(n));
    }
  });
  TB_CHECK_OK(WriteAll(pipe->write_end.get(), data, "pipe"));
  pipe->write_end.Reset();
  reader.join();
  CHECK(received == data);
}

TEST_CASE("WriteAll names the fd and the errno when the write fails") {
  UniqueFd read_only(open("/dev/null", O_RDONLY | O_CLOEXEC));
  REQUIRE(read_only.valid());
  absl::Status status = WriteAll(read_only.get(), "abc", "/dev/null");
  REQUIRE_FALSE(status.ok());
  CHECK(ErrnoOf(status) == EBADF);
  CHECK(std::string(status.message()).find("write(/dev/null)") != std::string::npos);
}

}  // namespace
}  // namespace tokenbox
