#include "sandbox/handshake.h"

#include <algorithm>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"

namespace tokenbox {
namespace {

constexpr absl::string_view kStepPayload = "tokenbox/step";

}  // namespace

std::string EncodeSetupFailure(absl::string_view step, const absl::Status& status) {
  std::string encoded = absl::StrCat(step, "\n", SerializeStatus(status));
  if (encoded.size() <= kMaxMessagePayload) return encoded;
  // A report too big for one message would never arrive, and the launcher would take the
  // closed socket for a successful exec. Cut the message; the code and errno still go through.
  constexpr absl::string_view kCut = " [cut to fit the set-up report]";
  const size_t overflow = encoded.size() - kMaxMessagePayload + kCut.size();
  absl::string_view message = status.message();
  absl::Status cut(status.code(), absl::StrCat(message.substr(0, message.size() - std::min(overflow, message.size())), kCut));
  return absl::StrCat(step, "\n", SerializeStatus(WithErrno(cut, ErrnoOf(status))));
}

absl::Status SetupFailure(absl::string_view step, const absl::Status& status) {
  absl::Status failure = Annotate(status, absl::StrCat("sandbox set-up failed at '", step, "'"));
  failure.SetPayload(kStepPayload, absl::Cord(step));
  return failure;
}

absl::Status DecodeSetupFailure(absl::string_view payload) {
  std::vector<absl::string_view> parts = absl::StrSplit(payload, absl::MaxSplits('\n', 1));
  if (parts.size() != 2) {
    return absl::DataLossError(absl::StrCat("malformed set-up failure report: '", payload, "'"));
  }
  absl::Status status = DeserializeStatus(parts[1]);
  if (status.ok()) status = absl::UnknownError("the child reported a failure without a cause");
  return SetupFailure(parts[0], status);
}

absl::StatusOr<StartedAs> AwaitStart(int sock, absl::Duration timeout) {
  constexpr absl::string_view kStep = "wait for the program to start";
  absl::StatusOr<FdMessage> message = ReceiveFdMessage(sock, timeout);
  if (!message.ok()) {
    // The peer closing is how a successful execve shows: the child's end was close-on-exec.
    if (IsPeerClosed(message.status())) return StartedAs::kExec;
    return SetupFailure(kStep, message.status());
  }
  switch (message->type) {
    case kFunctionStarted: return StartedAs::kFunction;
    case kZygoteReady: return StartedAs::kZygote;
    case kSetupFailed: return DecodeSetupFailure(message->payload);
    default:
      return SetupFailure(kStep, absl::DataLossError(
                                     absl::StrCat("unexpected message ", message->type)));
  }
}

std::string SetupStepOf(const absl::Status& status) {
  auto step = status.GetPayload(kStepPayload);
  return step.has_value() ? std::string(*step) : "";
}

}  // namespace tokenbox
