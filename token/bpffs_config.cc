#include "token/bpffs_config.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/mount_api.h"

namespace tokenbox {
namespace {

// Sets one delegate_* option: the names in one call, unnamed bits as a number in another.
absl::Status SetDelegateOption(int fs_fd, DelegateKind kind, const DelegateMask& mask) {
  if (mask.empty()) return absl::OkStatus();
  if (mask.any || mask.bits == ~uint64_t{0}) {
    return FsConfigSetString(fs_fd, OptionName(kind), "any");
  }
  std::string names;
  uint64_t unnamed = 0;
  for (int value = 0; value < 64; ++value) {
    if (!mask.Allows(value)) continue;
    if (const char* name = CanonicalName(kind, value)) {
      absl::StrAppend(&names, names.empty() ? "" : ":", name);
    } else {
      unnamed |= uint64_t{1} << value;
    }
  }
  if (!names.empty()) {
    if (absl::Status s = FsConfigSetString(fs_fd, OptionName(kind), names); !s.ok()) return s;
  }
  if (unnamed != 0) {
    return FsConfigSetString(fs_fd, OptionName(kind), absl::StrCat("0x", absl::Hex(unnamed)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<UniqueFd> ConfigureDelegatedBpffs(int fs_fd, const DelegationPolicy& policy) {
  for (DelegateKind kind : kAllDelegateKinds) {
    absl::Status status = SetDelegateOption(fs_fd, kind, policy[kind]);
    if (status.ok()) continue;
    if (ErrnoOf(status) == EPERM) {
      return AppendRemedy(status, "setting a delegate option needs CAP_SYS_ADMIN in the initial "
                                  "user namespace (run tokenbox as root)");
    }
    if (ErrnoOf(status) == EINVAL) {
      return AppendRemedy(status, "the kernel does not accept this delegate option: BPF tokens "
                                  "need Linux >= 6.9, and names need its BTF (see tokenbox probe)");
    }
    return status;
  }
  if (absl::Status status = FsConfigCreate(fs_fd); !status.ok()) return status;
  return FsMount(fs_fd);
}

}  // namespace tokenbox
