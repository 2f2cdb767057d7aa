#include "ns/errno_status.h"

#include <string.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

TEST_CASE("ErrnoStatus names the call, the errno by name, and the remedy") {
  absl::Status status = ErrnoStatus(EPERM, "fsopen(\"bpf\")", "run as root");
  CHECK(status.code() == absl::StatusCode::kPermissionDenied);
  CHECK(status.message() == "fsopen(\"bpf\"): EPERM (Operation not permitted): run as root");
  CHECK(ErrnoOf(status) == EPERM);
  CHECK(ErrnoName(ENOENT) == "ENOENT");
  CHECK(ErrnoName(4242) == "errno 4242");
}

TEST_CASE("An errno that means the system ran out of something brings its own remedy") {
  CHECK(ErrnoStatus(EMFILE, "pidfd_open").message() ==
        "pidfd_open: EMFILE (Too many open files): this process has too many open files: raise "
        "its limit (ulimit -n)");
  for (int err : {ENOMEM, ENOBUFS, EAGAIN, ENFILE}) {
    CAPTURE(err);
    std::string message(ErrnoStatus(err, "call").message());
    CHECK(message.size() > absl::StrCat("call: ", ErrnoName(err), " (", strerror(err), ")").size());
  }
  // The caller's own remedy wins; an errno whose meaning depends on the call gets none.
  CHECK(ErrnoStatus(EAGAIN, "fork", "mine").message() ==
        "fork: EAGAIN (Resource temporarily unavailable): mine");
  CHECK(ErrnoStatus(EINVAL, "fsconfig").message() == "fsconfig: EINVAL (Invalid argument)");
}

TEST_CASE("Annotate keeps the code and the errno") {
  absl::Status status = Annotate(ErrnoStatus(EBADF, "BPF_TOKEN_CREATE"), "create BPF token");
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(status.message() == "create BPF token: BPF_TOKEN_CREATE: EBADF (Bad file descriptor)");
  CHECK(ErrnoOf(status) == EBADF);
  CHECK(ErrnoOf(absl::InternalError("no errno")) == 0);
}

TEST_CASE("AppendRemedy puts the remedy last and keeps the code and the errno") {
  absl::Status status = AppendRemedy(ErrnoStatus(EINVAL, "fsconfig"), "use Linux >= 6.9");
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message() == "fsconfig: EINVAL (Invalid argument): use Linux >= 6.9");
  CHECK(ErrnoOf(status) == EINVAL);
  CHECK(AppendRemedy(absl::OkStatus(), "nothing").ok());
}

TEST_CASE("A status survives serialization with its code, errno and message") {
  absl::Status original = ErrnoStatus(ENOENT, "execve(\"/nope\")", "is the path right?");
  absl::Status copy = DeserializeStatus(SerializeStatus(original));
  CHECK(copy.code() == original.code());
  CHECK(copy.message() == original.message());
  CHECK(ErrnoOf(copy) == ENOENT);
  absl::Status plain = DeserializeStatus(SerializeStatus(absl::InvalidArgumentError("a b c")));
  CHECK(plain.code() == absl::StatusCode::kInvalidArgument);
  CHECK(plain.message() == "a b c");
  CHECK(DeserializeStatus("garbage").code() == absl::StatusCode::kDataLoss);
  CHECK(DeserializeStatus(SerializeStatus(absl::OkStatus())).ok());
  CHECK(DeserializeStatus("17 0 no such code").code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("Printable escapes what is not printable ASCII and cuts what is long") {
  CHECK(Printable("plain text") == "plain text");
  CHECK(Printable(std::string("a\xff\nb\\", 5)) == "a\\xff\\x0ab\\x5c");
  std::string huge(1 << 20, 'x');
  std::string shown = Printable(huge);
  CHECK(shown == std::string(64, 'x') + "... (1048576 bytes)");
}

}  // namespace
}  // namespace tokenbox
