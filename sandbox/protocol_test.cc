#include "sandbox/protocol.h"

#include <cerrno>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"
#include "sandbox/setup_step.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

// A report that did not fit one message would be lost, and the closed socket would pass for a
// successful exec: the encoder cuts the message instead, and keeps the step, code and errno.
TEST_CASE("A set-up failure report too big for one message is cut, not lost") {
  absl::Status huge = ErrnoStatus(ENAMETOOLONG, std::string(3 * kMaxMessagePayload, 'x'));
  std::string encoded = EncodeSetupFailure(SetupFailure(SetupStep::kMountDelegatedBpffs, huge));
  CHECK(encoded.size() <= kMaxMessagePayload);
  absl::Status decoded = DecodeSetupFailure(encoded);
  CHECK(SetupStepOf(decoded) == SetupStep::kMountDelegatedBpffs);
  CHECK(ErrnoOf(decoded) == ENAMETOOLONG);
  CHECK(decoded.code() == huge.code());
  CHECK(absl::EndsWith(decoded.message(), "[cut to fit the set-up report]"));
  absl::Status small = ErrnoStatus(EPERM, "fsopen(\"bpf\")");
  CHECK(DecodeSetupFailure(EncodeSetupFailure(SetupFailure(SetupStep::kCreateToken, small)))
            .message() == absl::StrCat("sandbox set-up failed at 'create BPF token': ",
                                       small.message()));
}

TEST_CASE("Every step has its own name, and survives the trip as itself") {
  std::set<std::string> names;
  for (int i = 0; i <= static_cast<int>(SetupStep::kWaitForStart); ++i) {
    const SetupStep step = static_cast<SetupStep>(i);
    CAPTURE(i);
    CHECK(names.insert(std::string(SetupStepName(step))).second);
    CHECK(SetupStepName(step) != "unknown step");
    absl::Status decoded = DecodeSetupFailure(EncodeSetupFailure(SetupFailure(step, absl::AbortedError("x"))));
    CHECK(SetupStepOf(decoded) == step);
  }
  // The first step to name a failure keeps it.
  absl::Status first = SetupFailure(SetupStep::kExec, absl::AbortedError("x"));
  CHECK(SetupFailure(SetupStep::kWaitForStart, first) == first);
  CHECK_FALSE(SetupStepOf(absl::AbortedError("x")).has_value());
}

TEST_CASE("Malformed reports and pids are refused clearly") {
  for (const char* payload : {"", "no newline", "999\n5 0 x", "-1\n5 0 x", "x\n5 0 x"}) {
    CAPTURE(payload);
    absl::Status decoded = DecodeSetupFailure(payload);
    CHECK(SetupStepOf(decoded) == SetupStep::kWaitForStart);
    CHECK(absl::StrContains(decoded.message(), "malformed set-up failure report"));
  }
  CHECK(*DecodePid(EncodePid(4242)) == 4242);
  for (const char* payload : {"", "0", "-5", "12x", "99999999999999"}) {
    CAPTURE(payload);
    CHECK_FALSE(DecodePid(payload).ok());
  }
}

}  // namespace
}  // namespace tokenbox
