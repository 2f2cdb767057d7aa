#ifndef TOKENBOX_SANDBOX_SETUP_PROGRESS_H_
#define TOKENBOX_SANDBOX_SETUP_PROGRESS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "sandbox/setup_step.h"

namespace tokenbox {

// --verbose's line, on `fd`, for a step that `who` ("launcher", "child") finished, timed from
// `started` (MonotonicNow() when the launch began).
void PrintSetupProgress(int fd, absl::Duration started, absl::string_view who,
                        absl::string_view what);

// How each step of the launcher's side of a set-up ends: a failure comes back as that step's
// (SetupFailure()), for the caller to return; a success is printed under --verbose, on
// `progress_fd` (-1: not printed; the launcher's stderr, or for tokenboxd its caller's). The
// child's side ends its steps on a SetupReporter (sandbox/child/setup_reporter.h).
class LauncherSteps {
 public:
  LauncherSteps(int progress_fd, absl::Duration started)
      : progress_fd_(progress_fd), started_(started) {}

  // OK when `status` is, after printing `note` (the step's name when empty); else the failure.
  absl::Status Step(SetupStep step, const absl::Status& status, absl::string_view note = {}) const;
  // Prints `what` under --verbose.
  void Note(absl::string_view what) const;

  int progress_fd() const { return progress_fd_; }
  absl::Duration started() const { return started_; }

 private:
  const int progress_fd_;
  const absl::Duration started_;  // MonotonicNow() when the launch began.
};

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_SETUP_PROGRESS_H_
