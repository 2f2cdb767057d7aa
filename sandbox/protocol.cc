#include "sandbox/protocol.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"
#include "sandbox/setup_step.h"

namespace tokenbox {

std::string EncodeSetupFailure(const absl::Status& failure) {
  const SetupStep step = SetupStepOf(failure).value_or(SetupStep::kWaitForStart);
  // The step goes as its number, and the message without the prefix that names it.
  absl::string_view cause = failure.message();
  absl::ConsumePrefix(&cause, absl::StrCat("sandbox set-up failed at '", SetupStepName(step), "': "));
  const std::string number = absl::StrCat(static_cast<int>(step), "\n");
  std::string encoded =
      number + SerializeStatus(WithErrno(absl::Status(failure.code(), cause), ErrnoOf(failure)));
  if (encoded.size() <= kMaxMessagePayload) return encoded;
  constexpr absl::string_view kCut = " [cut to fit the set-up report]";
  const size_t overflow = encoded.size() - kMaxMessagePayload + kCut.size();
  absl::Status cut(failure.code(),
                   absl::StrCat(cause.substr(0, cause.size() - std::min(overflow, cause.size())),
                                kCut));
  return number + SerializeStatus(WithErrno(cut, ErrnoOf(failure)));
}

absl::Status DecodeSetupFailure(absl::string_view payload) {
  std::vector<absl::string_view> parts = absl::StrSplit(payload, absl::MaxSplits('\n', 1));
  int step = -1;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &step) || step < 0 ||
      step > static_cast<int>(SetupStep::kWaitForStart)) {
    return SetupFailure(SetupStep::kWaitForStart,
                        absl::DataLossError(absl::StrCat("malformed set-up failure report: '",
                                                         Printable(payload), "'")));
  }
  absl::Status cause = DeserializeStatus(parts[1]);
  if (cause.ok()) cause = absl::UnknownError("the child reported a failure without a cause");
  return SetupFailure(static_cast<SetupStep>(step), cause);
}

absl::StatusOr<FdMessage> ReceiveExpected(int sock, uint32_t expected, size_t fd_count,
                                          absl::Duration timeout) {
  absl::StatusOr<FdMessage> message = ReceiveFdMessage(sock, timeout);
  if (!message.ok()) return message.status();
  if (message->type == kSetupFailed) return DecodeSetupFailure(message->payload);
  if (message->type != expected || message->fds.size() != fd_count) {
    return absl::DataLossError(absl::StrCat("expected message ", expected, " with ", fd_count,
                                            " fds, got message ", message->type, " with ",
                                            message->fds.size()));
  }
  return message;
}

std::string EncodeLaunchRequest(const LaunchRequest& request) {
  return absl::StrCat(absl::ToInt64Nanoseconds(request.started), " ", request.into_cgroup ? 1 : 0);
}

absl::StatusOr<LaunchRequest> DecodeLaunchRequest(absl::string_view payload) {
  std::vector<absl::string_view> parts = absl::StrSplit(payload, ' ');
  int64_t started = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &started) || started < 0 ||
      (parts[1] != "0" && parts[1] != "1")) {
    return absl::DataLossError(absl::StrCat("bad launch request '", Printable(payload), "'"));
  }
  return LaunchRequest{absl::Nanoseconds(started), parts[1] == "1"};
}

std::optional<absl::Duration> LaunchDeadline(absl::Duration started,
                                             std::optional<absl::Duration> timeout) {
  if (!timeout.has_value()) return std::nullopt;
  return started + *timeout;
}

absl::StatusOr<Pipe> MakeProgramStatusPipe() {
  absl::StatusOr<Pipe> pipe = MakePipe();
  if (pipe.ok() && fcntl(pipe->read_end.get(), F_SETFL, O_NONBLOCK) != 0) {
    return ErrnoStatus(errno, "fcntl(program status pipe, O_NONBLOCK)",
                       "report this as a tokenbox bug: a new pipe takes O_NONBLOCK");
  }
  return pipe;
}

std::string EncodePid(pid_t pid) { return absl::StrCat(pid); }

absl::StatusOr<pid_t> DecodePid(absl::string_view payload) {
  pid_t pid = 0;
  if (!absl::SimpleAtoi(payload, &pid) || pid <= 0) {
    return absl::DataLossError(absl::StrCat("bad pid '", Printable(payload), "'"));
  }
  return pid;
}

absl::StatusOr<UniqueFd> ReceiveOwnTerminal(int sock, absl::Duration timeout) {
  absl::StatusOr<FdMessage> message = ReceiveExpected(sock, kOwnTerminal, 1, timeout);
  if (!message.ok()) return SetupFailure(SetupStep::kReceiveOwnTerminal, message.status());
  return std::move(message->fds[0]);
}

absl::StatusOr<StartedAs> AwaitStart(int sock, absl::Duration timeout) {
  absl::StatusOr<FdMessage> message = ReceiveFdMessage(sock, timeout);
  if (!message.ok()) {
    // The peer closing is how a successful execve shows: the child's end was close-on-exec.
    if (IsPeerClosed(message.status())) return StartedAs::kExec;
    return SetupFailure(SetupStep::kWaitForStart, message.status());
  }
  switch (message->type) {
    case kFunctionStarted: return StartedAs::kFunction;
    case kZygoteReady: return StartedAs::kZygote;
    case kSetupFailed: return DecodeSetupFailure(message->payload);
    default:
      return SetupFailure(SetupStep::kWaitForStart,
                          absl::DataLossError(absl::StrCat("unexpected message ", message->type)));
  }
}

}  // namespace tokenbox
