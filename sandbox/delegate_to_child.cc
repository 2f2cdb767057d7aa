#include "sandbox/delegate_to_child.h"

#include "ns/fd_passing.h"
#include "ns/user_namespace.h"
#include "sandbox/protocol.h"
#include "token/bpffs_config.h"

namespace tokenbox {

absl::Status DelegateToChild(const LauncherSteps& steps, int sock, pid_t pid, const IdMap& uid_map,
                             const IdMap& gid_map, const DelegationPolicy& policy,
                             absl::Duration timeout) {
  if (absl::Status s = steps.Step(SetupStep::kWaitForChild,
                                  ReceiveExpected(sock, kChildUnshared, 0, timeout).status(),
                                  "child unshared its namespaces");
      !s.ok()) {
    return s;
  }
  absl::Status mapped = WriteIdMaps(pid, uid_map, gid_map);
  if (mapped.ok()) mapped = SendFdMessage(sock, kIdMapsWritten);
  if (absl::Status s = steps.Step(SetupStep::kWriteIdMaps, mapped, "wrote id maps"); !s.ok()) {
    return s;
  }
  absl::StatusOr<FdMessage> request = ReceiveExpected(sock, kBpffsContext, 1, timeout);
  if (!request.ok()) return SetupFailure(SetupStep::kWaitForBpffsContext, request.status());
  absl::StatusOr<UniqueFd> mount = ConfigureDelegatedBpffs(request->fds[0].get(), policy);
  if (!mount.ok()) {
    absl::Status failure = SetupFailure(SetupStep::kConfigureDelegatedBpffs, mount.status());
    // Tell the child, so that it stops waiting.
    (void)SendFdMessage(sock, kSetupFailed, EncodeSetupFailure(failure));
    return failure;
  }
  int fds[] = {mount->get()};
  return steps.Step(SetupStep::kConfigureDelegatedBpffs, SendFdMessage(sock, kBpffsMount, "", fds),
                    "configured delegated bpffs");
}

}  // namespace tokenbox
