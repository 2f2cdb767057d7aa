#ifndef TOKENBOX_SANDBOX_PROTOCOL_H_
#define TOKENBOX_SANDBOX_PROTOCOL_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ns/fd_passing.h"
#include "ns/pipe.h"

namespace tokenbox {

// Every message between a launcher and a child it sets up, or a fork server's zygote, over one
// SOCK_SEQPACKET socketpair (ns/fd_passing.h). The child's end is close-on-exec, so the
// launcher reads a successful execve as end-of-file, as systemd's exec path does: a failure is
// always a message with its step and errno, never just an exit code.
//
//   child                                     launcher
//   kChildUnshared ------------------------->  writes the id maps
//                  <------------------------- kIdMapsWritten
//   kBpffsContext (fsopen fd) -------------->  sets delegate_*, creates, fsmount
//                  <------------------------- kBpffsMount (mount fd)
//   exec: end-of-file, or kFunctionStarted,
//   or kZygoteReady ------------------------>
//   kSetupFailed, at any step -------------->  (and back, when configuring the bpffs fails)
//
// A fork server's launch, on the zygote's socket:
//                  <------------------------- kZygoteLaunch (command memfd, report socket,
//                                                            passed fds)
//   kZygoteLaunched (pid), or kSetupFailed ->
// and the launched child then reports on the report socket as above, from "exec" on. A launch
// without a pid namespace of its own (its request says into_cgroup) first waits there for
//                  <------------------------- kMovedToLaunchCgroup
// which the launcher sends once it has moved the child into the launch's own cgroup.
// A command with a terminal of the sandbox's own sends, before "exec", on either socket:
//   kOwnTerminal (its primary end) -------->
enum SandboxMessage : uint32_t {
  kChildUnshared = 1,
  kIdMapsWritten = 2,
  kBpffsContext = 3,
  kBpffsMount = 4,
  kSetupFailed = 5,      // Payload: EncodeSetupFailure().
  kFunctionStarted = 6,
  kZygoteReady = 7,
  kZygoteLaunch = 8,     // Payload: EncodeLaunchRequest(); the command is in a memfd (CommandCodec).
  kZygoteLaunched = 9,   // Payload: EncodePid().
  kMovedToLaunchCgroup = 10,
  kOwnTerminal = 11,     // The primary end of the program's pseudo-terminal (OwnTerminal()).
};

// A kZygoteLaunch payload: when the launch began, on MonotonicNow()'s clock, from which its
// timeout and its --verbose times count (sandbox/child_start.h), and whether the launch waits
// for kMovedToLaunchCgroup before it execs.
struct LaunchRequest {
  absl::Duration started;
  bool into_cgroup = false;
};
std::string EncodeLaunchRequest(const LaunchRequest& request);
absl::StatusOr<LaunchRequest> DecodeLaunchRequest(absl::string_view payload);

// A command's deadline, on MonotonicNow()'s clock. Its timeout counts from when the launch
// began, by Launch() or through a fork server, for the launcher (Child) and the sandbox's pid 1
// (which holds it while the launcher is stopped) alike.
std::optional<absl::Duration> LaunchDeadline(absl::Duration started,
                                             std::optional<absl::Duration> timeout);

// The pipe the sandbox's pid 1 reports the program's wait status on
// (sandbox/child/pid_namespace_init.h): its read end, the launcher's, does not block, since pid
// 1 writes before it exits; once pid 1 is reaped the status is there, or never will be.
absl::StatusOr<Pipe> MakeProgramStatusPipe();

// The exit code of a child that reported a set-up failure (as `tokenbox run` uses for its own
// errors), so that even its bare exit status says "tokenbox error".
inline constexpr int kSetupFailedExitCode = 125;

// A set-up failure (sandbox/setup_step.h: a status that names its step) as a kSetupFailed
// payload, and back. A report too big for one message would never arrive, and the launcher
// would take the closed socket for a successful exec: the message is cut instead, keeping the
// step, code and errno.
std::string EncodeSetupFailure(const absl::Status& failure);
absl::Status DecodeSetupFailure(absl::string_view payload);

// The next message, which must be `expected` with `fd_count` fds; a set-up failure the peer
// reports instead is returned as that failure.
absl::StatusOr<FdMessage> ReceiveExpected(int sock, uint32_t expected, size_t fd_count,
                                          absl::Duration timeout);

std::string EncodePid(pid_t pid);
absl::StatusOr<pid_t> DecodePid(absl::string_view payload);

// How a child confirmed its start to the launcher.
// The primary end of the program's own terminal (kOwnTerminal), or the child's set-up failure.
absl::StatusOr<UniqueFd> ReceiveOwnTerminal(int sock, absl::Duration timeout);

enum class StartedAs {
  kExec,      // End-of-file: execve succeeded, and the child's close-on-exec end went with it.
  kFunction,  // kFunctionStarted.
  kZygote,    // kZygoteReady.
};

// Waits on the launcher's end of a handshake socket until the child confirms its start. A set-up
// failure report arrives as that failure; anything else fails at SetupStep::kWaitForStart.
absl::StatusOr<StartedAs> AwaitStart(int sock, absl::Duration timeout);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_PROTOCOL_H_
