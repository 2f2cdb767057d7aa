#include "tests/delegated_child.h"

#include "ns/id_map.h"
#include "ns/run_in_child.h"
#include "sandbox/delegation_handshake.h"

namespace tokenbox::testing {
namespace {

constexpr absl::Duration kStepTimeout = absl::Seconds(10);

}  // namespace

absl::Status RunWithDelegatedBpffs(const DelegationPolicy& policy,
                                   const std::function<absl::Status(int bpffs_fd)>& fn) {
  absl::StatusOr<IdMap> nobody = IdMap::Single(0, 65534);
  if (!nobody.ok()) return nobody.status();
  return RunInChild(
      [&](int sock) -> absl::Status {
        if (absl::Status s = EnterDelegatedNamespaces(sock, 0, kStepTimeout); !s.ok()) return s;
        absl::StatusOr<UniqueFd> bpffs = ReceiveDelegatedBpffs(sock, kStepTimeout);
        if (!bpffs.ok()) return bpffs.status();
        return fn(bpffs->get());
      },
      [&](pid_t pid, int sock) {
        return DelegateToChild(sock, pid, *nobody, *nobody, policy, kStepTimeout);
      });
}

}  // namespace tokenbox::testing
