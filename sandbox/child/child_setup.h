#ifndef TOKENBOX_SANDBOX_CHILD_CHILD_SETUP_H_
#define TOKENBOX_SANDBOX_CHILD_CHILD_SETUP_H_

#include <sys/types.h>

#include <functional>
#include <optional>
#include <vector>

#include "absl/time/time.h"
#include "ns/unique_fd.h"
#include "sandbox/child/setup_reporter.h"
#include "sandbox/command.h"
#include "sandbox/sandbox.h"

namespace tokenbox {

struct ChildContext {
  pid_t launcher_pid;             // To notice a launcher that died before PR_SET_PDEATHSIG held.
  int progress_fd;                // Where --verbose prints each step and its time (-1: nowhere).
  absl::Duration started;         // MonotonicNow() when the launch began, for --verbose.
  absl::Duration setup_timeout;   // How long to wait for the launcher at each step.
  std::vector<int> cgroup_fds;    // The sandbox's own cgroups' directories, to enter.
  // The command's timeout as the launcher counts it (sandbox/child_start.h), which the sandbox's
  // pid 1 holds too.
  std::optional<absl::Duration> deadline;
  // A launch tokenboxd makes for a user who is not root (sandbox/service): the bind sources that
  // user opened, one per bind operation, and that user's own resource limits, which the
  // sandbox starts with (before the command's).
  bool bind_sources_provided = false;
  std::vector<int> bind_source_fds;
  std::vector<ResourceLimit> caller_limits;
  // The user namespace whose idmapping its writable binds take (-1: none), which shows that
  // user's files as the sandbox's.
  int writable_bind_idmapping = -1;
  // A fork-server launch: the launcher moves it into a cgroup of its own, which it awaits before
  // it can fork or exec.
  bool await_launch_cgroup = false;
  // The child was forked as pid 1 of the sandbox's pid namespace (Launch()) or cloned as one (a
  // fork-server launch): it runs the sandbox's init, and reports how the program ended on
  // `program_status_fd`, which the launcher reads.
  bool forked_as_pid1 = false;
  int program_status_fd = -1;
};

// These run in a child forked from the privileged launcher and take it to the sandboxed
// program, in the order the kernel requires (README.md, "How a launch works"), each step a call
// into the file that owns it. None returns:
// each ends in execve, the function's exit, or a set-up failure reported over `sock`, the
// child's end of the handshake socketpair, and an exit with kSetupFailedExitCode.

// Launch(): sets `sandbox` up, then runs `command` in it.
[[noreturn]] void RunSandboxChild(const Sandbox& sandbox, const Command& command,
                                  const ChildContext& context, UniqueFd sock);

// ForkServer::Start(): sets `sandbox` up, then hands the reporter and the token to `serve`,
// which keeps the namespaces' capabilities, runs no sandboxed code, and must not return.
[[noreturn]] void RunPreparedSandbox(const Sandbox& sandbox, const ChildContext& context,
                                     UniqueFd sock,
                                     const std::function<void(SetupReporter&, UniqueFd token)>& serve);

// A child the fork server's zygote forked: runs `command` in the prepared sandbox, reporting on
// `report_sock`; `server_function` is what a Kind::kForkServerFunction command runs.
[[noreturn]] void RunForkedCommand(const Sandbox& sandbox, const Command& command,
                                   const std::function<int()>& server_function,
                                   const ChildContext& context, UniqueFd report_sock,
                                   UniqueFd token);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_CHILD_SETUP_H_
