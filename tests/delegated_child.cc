#include "tests/delegated_child.h"

#include <sched.h>

#include <cerrno>

#include "ns/errno_status.h"
#include "ns/fd_passing.h"
#include "ns/id_map.h"
#include "ns/mount_namespace.h"
#include "ns/run_in_child.h"
#include "ns/user_namespace.h"
#include "token/bpffs_config.h"

namespace tokenbox::testing {
namespace {

enum : uint32_t { kUnshared = 1, kMapped = 2 };
constexpr absl::Duration kStepTimeout = absl::Seconds(10);

}  // namespace

absl::Status RunWithDelegatedBpffs(const DelegationPolicy& policy,
                                   const std::function<absl::Status(int bpffs_fd)>& fn) {
  return RunInChild(
      [&](int sock) -> absl::Status {
        if (absl::Status s = DropSupplementaryGroups(); !s.ok()) return s;
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
          return ErrnoStatus(errno, "unshare(CLONE_NEWUSER|CLONE_NEWNS)");
        }
        if (absl::Status s = SendFdMessage(sock, kUnshared); !s.ok()) return s;
        if (auto m = ReceiveExpectedMessage(sock, kMapped, 0, kStepTimeout); !m.ok()) {
          return m.status();
        }
        if (absl::Status s = EnterMappedIds(0, 0); !s.ok()) return s;
        if (absl::Status s = MakeMountsPrivate(); !s.ok()) return s;
        absl::StatusOr<UniqueFd> bpffs = RequestDelegatedBpffs(sock, kStepTimeout);
        if (!bpffs.ok()) return bpffs.status();
        return fn(bpffs->get());
      },
      [&](pid_t pid, int sock) -> absl::Status {
        if (auto m = ReceiveExpectedMessage(sock, kUnshared, 0, kStepTimeout); !m.ok()) {
          return m.status();
        }
        absl::StatusOr<IdMap> nobody = IdMap::Single(0, 65534);
        if (!nobody.ok()) return nobody.status();
        if (absl::Status s = WriteIdMaps(pid, *nobody, *nobody); !s.ok()) return s;
        if (absl::Status s = SendFdMessage(sock, kMapped); !s.ok()) return s;
        return ServeDelegatedBpffs(sock, policy, kStepTimeout);
      });
}

}  // namespace tokenbox::testing
