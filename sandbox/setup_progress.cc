#include "sandbox/setup_progress.h"

#include <stdio.h>

#include <cstdio>

#include "ns/monotonic_clock.h"

namespace tokenbox {

void PrintSetupProgress(int fd, absl::Duration started, absl::string_view who,
                        absl::string_view what) {
  dprintf(fd, "tokenbox: %8.3f ms  %.*s: %.*s\n",
               absl::ToDoubleMilliseconds(MonotonicNow() - started), static_cast<int>(who.size()),
               who.data(), static_cast<int>(what.size()), what.data());
}

absl::Status LauncherSteps::Step(SetupStep step, const absl::Status& status,
                                 absl::string_view note) const {
  if (!status.ok()) return SetupFailure(step, status);
  Note(note.empty() ? SetupStepName(step) : note);
  return absl::OkStatus();
}

void LauncherSteps::Note(absl::string_view what) const {
  if (progress_fd_ >= 0) PrintSetupProgress(progress_fd_, started_, "launcher", what);
}

}  // namespace tokenbox
