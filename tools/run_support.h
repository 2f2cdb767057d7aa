#ifndef TOKENBOX_TOOLS_RUN_SUPPORT_H_
#define TOKENBOX_TOOLS_RUN_SUPPORT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "sandbox/fork_server.h"
#include "sandbox/launcher.h"

namespace tokenbox {

// Exit codes of the commands that run a program (run, fuzz), besides the program's own and
// 128+N for signal N.
inline constexpr int kExitTimedOut = 124;
inline constexpr int kExitTokenboxError = 125;
inline constexpr int kExitNotExecutable = 126;
inline constexpr int kExitNotFound = 127;

// 127 for a program not found, 126 for one that cannot be executed, else 125.
int ExitCodeForSetupFailure(const absl::Status& status);

// A program started for one run, and the fork server it came from when it went through one
// (destroying that shuts the zygote down, so it lives as long as the child: declared first,
// it is destroyed last).
struct StartedRun {
  std::unique_ptr<ForkServer> fork_server;
  Child child;
};

// Starts `command` in `sandbox` with Launch() or, with `via_fork_server`, through a fork server
// prepared for this one run.
absl::StatusOr<StartedRun> StartRun(const Sandbox& sandbox, const Command& command,
                                    const LaunchOptions& options, bool via_fork_server);

// While a sandbox runs, termination signals sent to tokenbox go to it instead, so that it never
// outlives tokenbox; SIGTSTP (^Z) stops the sandbox and then tokenbox, and SIGCONT continues
// both. nullptr stops forwarding; `child` must outlive the forwarding.
void ForwardTerminationSignalsTo(const Child* child);

}  // namespace tokenbox

#endif  // TOKENBOX_TOOLS_RUN_SUPPORT_H_
