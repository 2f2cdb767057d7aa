#include "sandbox/setup_reporter.h"

#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "ns/fd_passing.h"
#include "ns/monotonic_clock.h"
#include "sandbox/protocol.h"

namespace tokenbox {

void SetupReporter::Step(SetupStep step, const absl::Status& status) {
  if (!status.ok()) Fail(step, status);
  Done(step);
}

void PrintSetupProgress(absl::Duration started, absl::string_view who, absl::string_view what) {
  std::fprintf(stderr, "tokenbox: %8.3f ms  %.*s: %.*s\n",
               absl::ToDoubleMilliseconds(MonotonicNow() - started), static_cast<int>(who.size()),
               who.data(), static_cast<int>(what.size()), what.data());
}

void SetupReporter::Done(SetupStep step) const {
  if (verbose_) PrintSetupProgress(started_, "child", SetupStepName(step));
}

void SetupReporter::Fail(SetupStep step, const absl::Status& status) {
  const absl::Status failure = SetupFailure(step, status);
  absl::Status reported = SendFdMessage(sock_.get(), kSetupFailed, EncodeSetupFailure(failure));
  if (!reported.ok()) {
    // The launcher will read the closed socket as a successful exec: the user's stderr is the
    // only place left to say what happened.
    std::string line = absl::StrCat("tokenbox: ", failure.message(),
                                    " (reporting it to the launcher failed: ", reported.message(),
                                    ")\n");
    (void)!write(STDERR_FILENO, line.data(), line.size());
  }
  _exit(kSetupFailedExitCode);
}

}  // namespace tokenbox
