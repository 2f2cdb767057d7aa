#ifndef TOKENBOX_SANDBOX_FORK_SERVER_H_
#define TOKENBOX_SANDBOX_FORK_SERVER_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <mutex>

#include "absl/status/statusor.h"
#include "ns/unique_fd.h"
#include "sandbox/child.h"
#include "sandbox/command.h"
#include "sandbox/launch_options.h"
#include "sandbox/sandbox.h"

namespace tokenbox {

class HostIdLease;    // sandbox/host_resources/host_id_lease.h
class SandboxCgroup;  // sandbox/host_resources/sandbox_cgroup.h
struct OnBehalfOf;    // sandbox/parent_setup.h

struct ForkServerOptions {
  LaunchOptions launch;
  // What a CommandBuilder::ForkServerFunction() launch runs. A callable cannot be carried into a
  // sandbox prepared earlier, so it is given here, before the zygote is forked.
  std::function<int()> function;
};

// A sandbox set up once (user and mount namespaces, delegated bpffs, token) that then serves
// many launches, for callers that launch often: test runners and fuzzers. Each launch is forked
// from the prepared sandbox (the zygote), gets its own argv, environment, fds, rlimits and
// timeout, drops its capabilities as a Launch() child does, and execs or runs the function.
//
// Every launched child is still its own process with its own memory, fds and process group; it
// shares with its siblings only what one sandbox is: the mount and other namespaces, the bpffs
// (and what is pinned in it), and the host user. With the sandbox's pid namespace (the
// default), each launch also gets a pid namespace of its own, with its own /proc: siblings and
// the zygote cannot be named, signalled or traced, and whatever a program forks dies with it.
// Without one, launches share the launcher's pid namespace: each is its own process group in a
// cgroup of its own (below the fork server's), which ends with the launch, whatever its
// processes did to their group; but siblings can see, signal and trace one another and signal
// the zygote (they are the same host user with the same capabilities). The zygote keeps the
// capabilities of its own namespaces, which no sandboxed code ever runs with, and dies with the
// launcher.
class ForkServer {
 public:
  // A caller that is not root has tokenboxd prepare the sandbox, and then launches programs
  // only (a function cannot cross into tokenboxd's process), each with a pid namespace of its
  // own.
  static absl::StatusOr<std::unique_ptr<ForkServer>> Start(const Sandbox& sandbox,
                                                           ForkServerOptions options = {});
  ~ForkServer();
  ForkServer(const ForkServer&) = delete;
  ForkServer& operator=(const ForkServer&) = delete;

  // Launches `command` in the prepared sandbox. Returns once execve succeeded or the function
  // started, like Launch(). Safe to call from several threads at once.
  absl::StatusOr<Child> Launch(const Command& command);

  pid_t zygote_pid() const { return zygote_.pid(); }

 private:
  friend class ServiceSession;  // tokenboxd's, for a user who is not root.
  static absl::StatusOr<std::unique_ptr<ForkServer>> Start(const Sandbox& sandbox,
                                                           ForkServerOptions options,
                                                           const OnBehalfOf* on_behalf_of);
  // Start() and Launch() through tokenboxd, which serves the zygote on `sock_`.
  static absl::StatusOr<std::unique_ptr<ForkServer>> StartThroughService(
      const Sandbox& sandbox, const ForkServerOptions& options);
  absl::StatusOr<Child> LaunchThroughService(const Command& command);
  ForkServer(Child zygote, UniqueFd sock, std::shared_ptr<const HostIdLease> host_ids,
             std::shared_ptr<const SandboxCgroup> cgroup, bool pid_namespace_per_launch,
             const ForkServerOptions& options);

  Child zygote_;
  std::mutex mutex_;  // One request and its reply at a time on sock_.
  UniqueFd sock_;
  // Every launch holds them too: launches without a pid namespace share the zygote's host uid.
  const std::shared_ptr<const HostIdLease> host_ids_;
  // The zygote's; a launch with a pid namespace of its own shares it.
  const std::shared_ptr<const SandboxCgroup> cgroup_;
  // Without a pid namespace per launch, each gets a cgroup below cgroup_, whose removal ends what
  // it left behind.
  const bool cgroup_per_launch_;
  // Each launch is then pid 1 of a pid namespace of its own, and reports how its program ended.
  const bool pid_namespace_per_launch_;
  const LaunchOptions launch_options_;
  const bool has_function_;
  // Started by tokenboxd: each launch goes to it as a request on the connection the zygote's
  // Child is served on (service_fd_, which that Child owns).
  bool through_service_ = false;
  int service_fd_ = -1;
};

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_FORK_SERVER_H_
