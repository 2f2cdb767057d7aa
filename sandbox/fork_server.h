#ifndef TOKENBOX_SANDBOX_FORK_SERVER_H_
#define TOKENBOX_SANDBOX_FORK_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <mutex>

#include "absl/status/statusor.h"
#include "sandbox/launcher.h"
#include "sandbox/sandbox_spec.h"

namespace tokenbox {

// A sandbox set up once (user and mount namespaces, delegated bpffs, token) that then serves
// many launches, for callers that launch often: test runners and fuzzers. Each launch is forked
// from the prepared sandbox (the zygote), gets its own argv, environment, fds, rlimits and
// timeout, drops its capabilities as a Launch() child does, and execs or runs the function.
//
// Every launched child is still its own process with its own memory, fds and process group; it
// shares with its siblings only what one sandbox is: the mount and other namespaces, the bpffs
// (and what is pinned in it), and the host user. With the spec's pid namespace (the default),
// each launch also gets a pid namespace of its own, with its own /proc: siblings and the zygote
// cannot be named, signalled or traced, and whatever a program forks dies with it. The zygote
// keeps the capabilities of its own namespaces, which no sandboxed code ever runs with. The
// zygote dies with the launcher process.
class ForkServer {
 public:
  // Prepares `sandbox` (its program, function and per-launch fields are not used, except that a
  // function given here is what function launches run). Without a pid namespace in `sandbox`,
  // launches share the launcher's pid namespace: each is its own process group, which a timeout
  // or Kill() ends, but siblings can see, signal and trace one another and signal the zygote
  // (they are the same host user with the same capabilities), and a process a program forks can
  // outlive a SIGKILLed launcher (docs/SECURITY.md).
  static absl::StatusOr<std::unique_ptr<ForkServer>> Start(const SandboxSpec& sandbox,
                                                           const LaunchOptions& options = {});
  ~ForkServer();
  ForkServer(const ForkServer&) = delete;
  ForkServer& operator=(const ForkServer&) = delete;

  // Launches `launch`'s program (or, if it runs a function, the function given to Start) in the
  // prepared sandbox, with `launch`'s environment, working directory, rlimits, timeout and
  // passed fds. Returns once execve succeeded or the function started, like Launch(). Safe to
  // call from several threads.
  absl::StatusOr<Child> Launch(const SandboxSpec& launch);

  pid_t zygote_pid() const { return zygote_.pid(); }

 private:
  ForkServer(SandboxSpec sandbox, ZygoteHandle zygote)
      : sandbox_(std::move(sandbox)), zygote_(std::move(zygote.zygote)), sock_(std::move(zygote.sock)) {}

  SandboxSpec sandbox_;
  Child zygote_;
  std::mutex mutex_;  // One request and its reply at a time on sock_.
  UniqueFd sock_;
};

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_FORK_SERVER_H_
