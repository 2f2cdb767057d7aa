#include "tools/run_support.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "sandbox/setup_step.h"

namespace tokenbox {
namespace {

const Child* volatile g_child = nullptr;

void ForwardSignal(int sig) {
  if (const Child* child = g_child) child->Signal(sig);
}

// ^Z: the sandbox, in a session of its own, did not get the terminal's SIGTSTP. It is stopped
// first (its pid 1 stops everything in it), then tokenbox, so the shell sees the job stop.
void StopSandboxThenSelf(int sig) {
  const int saved_errno = errno;
  ForwardSignal(sig);
  kill(getpid(), SIGSTOP);
  errno = saved_errno;
}

// fg or bg: tokenbox runs again; so does the sandbox.
void ContinueSandbox(int sig) {
  const int saved_errno = errno;
  ForwardSignal(sig);
  errno = saved_errno;
}

}  // namespace

int ExitCodeForSetupFailure(const absl::Status& status) {
  if (SetupStepOf(status) != SetupStep::kExec) return kExitTokenboxError;
  int err = ErrnoOf(status);
  if (err == ENOENT) return kExitNotFound;
  if (err == EACCES || err == ENOEXEC || err == EPERM || err == EISDIR) return kExitNotExecutable;
  return kExitTokenboxError;
}

void ForwardTerminationSignalsTo(const Child* child) {
  g_child = child;
  const bool forward = child != nullptr;
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT}) signal(sig, forward ? ForwardSignal : SIG_DFL);
  signal(SIGTSTP, forward ? StopSandboxThenSelf : SIG_DFL);
  signal(SIGCONT, forward ? ContinueSandbox : SIG_DFL);
}

absl::StatusOr<StartedRun> StartRun(const Sandbox& sandbox, const Command& command,
                                    const LaunchOptions& options, bool via_fork_server) {
  if (!via_fork_server) {
    absl::StatusOr<Child> child = Launch(sandbox, command, options);
    if (!child.ok()) return child.status();
    return StartedRun{nullptr, *std::move(child)};
  }
  absl::StatusOr<std::unique_ptr<ForkServer>> server =
      ForkServer::Start(sandbox, ForkServerOptions{.launch = options});
  if (!server.ok()) return server.status();
  absl::StatusOr<Child> child = (*server)->Launch(command);
  if (!child.ok()) return child.status();
  return StartedRun{*std::move(server), *std::move(child)};
}

}  // namespace tokenbox
