#ifndef TOKENBOX_SANDBOX_CHILD_SETUP_H_
#define TOKENBOX_SANDBOX_CHILD_SETUP_H_

#include <sys/types.h>

#include "absl/time/time.h"
#include "ns/unique_fd.h"
#include "sandbox/sandbox_spec.h"

namespace tokenbox {

struct ChildContext {
  pid_t launcher_pid;       // To notice a launcher that died before PR_SET_PDEATHSIG took hold.
  bool verbose;             // Print each step and its time to stderr.
  absl::Duration started;   // MonotonicNow() when the launch began, for --verbose.
  // Become a fork server's zygote after the token is made, instead of running the spec's
  // program: keep the namespace's capabilities and serve launches (sandbox/fork_server.h).
  bool zygote = false;
};

// Runs in the forked child: takes it from a copy of the privileged launcher to the sandboxed
// program, in the order the kernel requires (see README.md, "How a launch works"), then execs
// the program or runs the function. Never returns. Any failure is reported to the launcher as
// its step and status over `sock`, the child's end of the handshake socketpair, and the child
// exits with kSetupFailedExitCode.
[[noreturn]] void RunSandboxChild(const SandboxSpec& spec, const ChildContext& context,
                                  UniqueFd sock);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_SETUP_H_
