#ifndef TOKENBOX_SANDBOX_HANDSHAKE_H_
#define TOKENBOX_SANDBOX_HANDSHAKE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tokenbox {

// Messages between the launcher and the child it is setting up, over one SOCK_SEQPACKET
// socketpair (ns/fd_passing.h). The child's end is close-on-exec, so the launcher reads a
// successful execve as end-of-file, as systemd's exec path does: a failure is always a message
// with its step and errno, never just an exit code.
enum SandboxMessage : uint32_t {
  kChildUnshared = 1,     // child -> parent: new namespaces exist; write my id maps.
  kIdMapsWritten = 2,     // parent -> child.
  kFunctionStarted = 3,   // child -> parent: set-up done, running the function (no exec).
  kSetupFailed = 4,       // child -> parent: payload = EncodeSetupFailure().
  // A fork server's zygote (sandbox/fork_server.h):
  kZygoteReady = 5,       // zygote -> parent: the sandbox is prepared; send launches.
  kZygoteLaunch = 6,      // parent -> zygote, fds: request memfd, report socket, passed fds.
  kZygoteLaunched = 7,    // zygote -> parent: "P<pid>", or "E<serialized status>".
};

// The exit code of a child that reported a set-up failure (as `tokenbox run` uses for its own
// errors), so that even its bare exit status says "tokenbox error".
inline constexpr int kSetupFailedExitCode = 125;

// "step\n<serialized status>": what failed and why.
std::string EncodeSetupFailure(absl::string_view step, const absl::Status& status);

// The launcher's error for a failed step: "sandbox set-up failed at '<step>': <message>", with
// the code and errno kept, and the step recorded for SetupStepOf().
absl::Status SetupFailure(absl::string_view step, const absl::Status& status);
absl::Status DecodeSetupFailure(absl::string_view payload);

// The step recorded by SetupFailure ("exec", "create BPF token", ...), or "" for other errors.
std::string SetupStepOf(const absl::Status& status);

// How a child confirmed its start to the launcher.
enum class StartedAs {
  kExec,      // End-of-file: execve succeeded, and the child's close-on-exec end went with it.
  kFunction,  // kFunctionStarted.
  kZygote,    // kZygoteReady.
};

// Waits on the launcher's end of a handshake socket until the child confirms its start. A set-up
// failure report becomes its SetupFailure(); anything else is an error of the step "wait for the
// program to start".
absl::StatusOr<StartedAs> AwaitStart(int sock, absl::Duration timeout);

// The step names, in the order the child runs them.
inline constexpr char kStepExec[] = "exec";

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_HANDSHAKE_H_
