#include "ns/run_in_child.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "ns/errno_status.h"
#include "ns/fd_passing.h"
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

TEST_CASE("RunInChild lets parent and child talk, and returns the child's status") {
  absl::Status status = RunInChild(
      [](int sock) -> absl::Status {
        auto question = ReceiveExpectedMessage(sock, 1, 0, absl::Seconds(5));
        if (!question.ok()) return question.status();
        return SendFdMessage(sock, 2, question->payload + " pong");
      },
      [](pid_t, int sock) -> absl::Status {
        if (absl::Status s = SendFdMessage(sock, 1, "ping"); !s.ok()) return s;
        auto answer = ReceiveExpectedMessage(sock, 2, 0, absl::Seconds(5));
        if (!answer.ok()) return answer.status();
        if (answer->payload != "ping pong") return absl::InternalError(answer->payload);
        return absl::OkStatus();
      });
  TB_CHECK_OK(status);
}

TEST_CASE("RunInChild returns the parent side's error and kills the waiting child") {
  absl::Status status = RunInChild(
      [](int sock) -> absl::Status {
        return ReceiveFdMessage(sock, absl::Seconds(30)).status();  // Never answered.
      },
      [](pid_t, int) { return absl::UnavailableError("parent gave up"); });
  CHECK(status.code() == absl::StatusCode::kUnavailable);
  CHECK(status.message() == "parent gave up");
}

TEST_CASE("RunInChild returns the child's error when the child fails while the parent waits") {
  absl::Status status = RunInChild(
      [](int) { return absl::NotFoundError("the real cause"); },
      [](pid_t, int sock) { return ReceiveFdMessage(sock, absl::Seconds(5)).status(); });
  CHECK(status.code() == absl::StatusCode::kNotFound);
  CHECK(status.message() == "the real cause");
}

}  // namespace
}  // namespace tokenbox
