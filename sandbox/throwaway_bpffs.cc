#include "sandbox/throwaway_bpffs.h"

#include <fcntl.h>

#include <cerrno>
#include <optional>

#include "ns/errno_status.h"
#include "ns/id_map.h"
#include "ns/monotonic_clock.h"
#include "ns/run_in_child.h"
#include "ns/unique_fd.h"
#include "sandbox/child/child_bpffs.h"
#include "sandbox/child/child_namespaces.h"
#include "sandbox/child/setup_reporter.h"
#include "sandbox/delegate_to_child.h"

namespace tokenbox {

absl::Status RunWithDelegatedBpffs(const DelegationPolicy& policy,
                                   const std::function<absl::Status(int bpffs_fd)>& fn,
                                   absl::Duration timeout) {
  constexpr uint32_t kNobody = 65534;
  absl::StatusOr<IdMap> nobody = IdMap::Single(0, kNobody);
  if (!nobody.ok()) return nobody.status();
  return RunInChild(
      [&](int sock) -> absl::Status {
        // The reporter owns a copy of the socket: the child ends its steps as a launch's does,
        // and a failed one reaches the launcher's side below as that step's failure.
        UniqueFd own(fcntl(sock, F_DUPFD_CLOEXEC, 0));
        if (!own) return ErrnoStatus(errno, "fcntl(F_DUPFD_CLOEXEC)");
        SetupReporter reporter(std::move(own), /*verbose=*/false, MonotonicNow());
        EnterSandboxNamespaces(reporter, kNobody, kNobody, /*other_flags=*/0, timeout);
        absl::StatusOr<UniqueFd> bpffs =
            ReceiveDelegatedBpffs(reporter.sock(), timeout, std::nullopt, kNobody);
        if (!bpffs.ok()) return bpffs.status();
        return fn(bpffs->get());
      },
      [&](pid_t pid, int sock) {
        return DelegateToChild(LauncherSteps(/*progress_fd=*/-1, MonotonicNow()), sock, pid,
                               *nobody, *nobody, policy, timeout);
      });
}

}  // namespace tokenbox
