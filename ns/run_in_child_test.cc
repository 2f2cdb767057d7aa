#include "ns/run_in_child.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "ns/errno_status.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

TEST_CASE("RunInChild returns the child's status with its errno, and runs in another process") {
  pid_t parent = getpid();
  absl::Status status = RunInChild([parent] {
    if (getpid() == parent) return absl::InternalError("ran in the parent");
    return ErrnoStatus(EACCES, "open(\"/secret\")");
  });
  CHECK(status.code() == absl::StatusCode::kPermissionDenied);
  CHECK(ErrnoOf(status) == EACCES);
  CHECK(RunInChild([] { return absl::OkStatus(); }).ok());
}

TEST_CASE("RunInChild reports a child that crashed before reporting") {
  absl::Status status = RunInChild([]() -> absl::Status {
    raise(SIGSEGV);
    return absl::OkStatus();
  });
  REQUIRE_FALSE(status.ok());
  CHECK(std::string(status.message()).find("killed by signal 11") != std::string::npos);
}

TEST_CASE("RunInChild kills a child that does not report in time") {
  absl::Status status = RunInChild(
      []() -> absl::Status {
        pause();
        return absl::OkStatus();
      },
      absl::Milliseconds(100));
  CHECK(status.code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(std::string(status.message()).find("killed by signal 9") != std::string::npos);
}

}  // namespace
}  // namespace tokenbox
