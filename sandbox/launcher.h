#ifndef TOKENBOX_SANDBOX_LAUNCHER_H_
#define TOKENBOX_SANDBOX_LAUNCHER_H_

#include "absl/status/statusor.h"
#include "sandbox/child.h"
#include "sandbox/command.h"
#include "sandbox/exit_status.h"
#include "sandbox/launch_options.h"
#include "sandbox/sandbox.h"
#include "sandbox/setup_step.h"

namespace tokenbox {

// Starts `command` in the sandbox `sandbox` describes and returns once it runs (execve succeeded
// or the function started). A caller that holds CAP_SYS_ADMIN in the initial user namespace
// (root) launches it itself; any other has tokenboxd launch it in its place, as root would, with
// what the administrator's policy grants that user (docs/SECURITY.md), and then runs programs
// only, not functions (LaunchOptions::service_socket says where tokenboxd listens).
// A failure at any step, in the launcher or in the child, comes back as
//   "sandbox set-up failed at '<step>': <syscall>: <ERRNO> (...): <remedy>"
// (SetupStepOf() gives the step), after the child has been killed and reaped.
//
// Launch() may be called from any thread, and from several at once. A sandbox's parent-death
// signal follows the thread that forked it, so a launch from any thread but the main one is
// forked on one thread that lives as long as the process; a launch from the main thread is
// forked there (a main thread that ends with pthread_exit() while others go on ends its
// sandboxes).
absl::StatusOr<Child> Launch(const Sandbox& sandbox, const Command& command,
                             const LaunchOptions& options = {});

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_LAUNCHER_H_
