#ifndef TOKENBOX_SANDBOX_PARENT_SETUP_H_
#define TOKENBOX_SANDBOX_PARENT_SETUP_H_

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ns/unique_fd.h"
#include "sandbox/caller_stdio.h"
#include "sandbox/child.h"
#include "sandbox/child/child_setup.h"
#include "sandbox/child_start.h"
#include "sandbox/host_resources/host_id_lease.h"
#include "sandbox/host_resources/sandbox_cgroup.h"
#include "sandbox/launch_options.h"
#include "sandbox/sandbox.h"

namespace tokenbox {

// The launcher's side of setting a sandbox up, for Launch() and ForkServer::Start(): checks its
// privilege, leases host ids when the sandbox maps none of its own and makes its cgroups, forks
// a child that runs `child_main` (as pid 1 of the sandbox's pid namespace, unless it is a
// zygote), writes its id maps and delegates its bpffs (sandbox/delegate_to_child.h), and
// returns once the child confirms its start (sandbox/child_start.h), with the handshake socket
// (a zygote serves launches on it).
// A launch that tokenboxd makes for a user who is not root (sandbox/service): that user's ids,
// whose files its writable binds show as the sandbox's, the bind sources that user opened, in
// the order of the view's bind operations, the resource limits that user has, which the
// sandbox starts with, and that user's stderr, where --verbose prints.
struct OnBehalfOf {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<int> bind_sources;
  std::vector<ResourceLimit> limits;
  int progress_fd = -1;  // Where --verbose's lines go: that user's stderr.
};

class ParentSetup {
 public:
  // Runs in the forked child with its end of the handshake socket; must not return. `sandbox`
  // is the one given, with its leased host ids filled in.
  using ChildMain =
      std::function<void(const Sandbox& sandbox, UniqueFd sock, const ChildContext& context)>;

  struct Started {
    Child child;
    UniqueFd sock;
    // The sandbox's leased host ids (null when it maps ids of its own): a fork server's launches
    // hold them too, so that they are given back only once nothing of the sandbox runs.
    std::shared_ptr<const HostIdLease> host_ids;
    // Likewise the sandbox's own cgroup (null without a cgroup namespace or cgroup2).
    std::shared_ptr<const SandboxCgroup> cgroup;
  };

  // `timeout` is the command's, which counts from now; a zygote has none. `caller_stdio` is put
  // back when the child has been reaped.
  static absl::StatusOr<Started> Start(const Sandbox& sandbox,
                                       std::optional<absl::Duration> timeout,
                                       CallerStdio caller_stdio, const LaunchOptions& options,
                                       ExpectedStart expect, const ChildMain& child_main,
                                       const OnBehalfOf* on_behalf_of = nullptr);
};

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_PARENT_SETUP_H_
