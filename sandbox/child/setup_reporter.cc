#include "sandbox/child/setup_reporter.h"

#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "ns/fd_passing.h"
#include "sandbox/protocol.h"
#include "sandbox/setup_progress.h"

namespace tokenbox {

void SetupReporter::Step(SetupStep step, const absl::Status& status) {
  if (!status.ok()) Fail(step, status);
  Done(step);
}

void SetupReporter::Done(SetupStep step) const {
  if (progress_fd_ >= 0) PrintSetupProgress(progress_fd_, started_, "child", SetupStepName(step));
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
