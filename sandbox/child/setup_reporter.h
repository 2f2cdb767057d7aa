#ifndef TOKENBOX_SANDBOX_CHILD_SETUP_REPORTER_H_
#define TOKENBOX_SANDBOX_CHILD_SETUP_REPORTER_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ns/unique_fd.h"
#include "sandbox/setup_step.h"

namespace tokenbox {

// The child's end of the handshake socket, and how each of the child's set-up steps ends: a
// success is printed under --verbose; a failure is reported to the launcher as a set-up failure
// (sandbox/protocol.h), and the child exits with kSetupFailedExitCode. The launcher's side ends
// its steps on LauncherSteps (sandbox/setup_progress.h).
class SetupReporter {
 public:
  // Successes are printed on `progress_fd` (-1: not printed).
  SetupReporter(UniqueFd sock, int progress_fd, absl::Duration started)
      : sock_(std::move(sock)), progress_fd_(progress_fd), started_(started) {}

  // Ends `step` with `status`: returns when it is OK, else reports it and exits.
  void Step(SetupStep step, const absl::Status& status);
  [[noreturn]] void Fail(SetupStep step, const absl::Status& status);
  // Prints a step that succeeded under --verbose.
  void Done(SetupStep step) const;

  int sock() const { return sock_.get(); }
  // Closes the socket, in a process that must not hold the launcher's end-of-file back.
  void CloseSocket() { sock_.Reset(); }
  // Prints what follows on `fd`: once the program's fds are in place, its stderr.
  void PrintProgressOn(int fd) {
    if (progress_fd_ >= 0) progress_fd_ = fd;
  }

 private:
  UniqueFd sock_;  // Close-on-exec, so a successful execve closes it.
  int progress_fd_;
  const absl::Duration started_;  // MonotonicNow() when the launch began.
};

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_SETUP_REPORTER_H_
