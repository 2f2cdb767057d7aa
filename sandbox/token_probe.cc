#include "sandbox/token_probe.h"

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/mount_api.h"
#include "sandbox/throwaway_bpffs.h"
#include "token/delegation_policy.h"
#include "token/token.h"

namespace tokenbox {
namespace {

constexpr absl::Duration kProbeTimeout = absl::Seconds(10);

absl::Status ProbeDelegateOptions() {
  absl::StatusOr<UniqueFd> fs = FsOpen("bpf");
  if (!fs.ok()) return fs.status();
  absl::Status bogus = FsConfigSetString(fs->get(), "delegate_cmds", "tokenbox_no_such_cmd");
  if (bogus.ok()) {
    return absl::UnimplementedError(
        "the kernel accepted a bogus delegate_cmds value, so it ignores delegation options: BPF "
        "tokens need Linux >= 6.9");
  }
  if (ErrnoOf(bogus) != EINVAL) return bogus;
  return absl::OkStatus();
}

absl::Status ProbeBtfNames() {
  absl::StatusOr<UniqueFd> fs = FsOpen("bpf");
  if (!fs.ok()) return fs.status();
  absl::Status named = FsConfigSetString(fs->get(), "delegate_cmds", "map_create:prog_load");
  if (!named.ok()) {
    return Annotate(named, "the kernel cannot resolve delegate names (no /sys/kernel/btf/vmlinux? "
                           "CONFIG_DEBUG_INFO_BTF=y is needed); numbers would still work");
  }
  return absl::OkStatus();
}

absl::Status ProbeThrowawayToken() {
  absl::StatusOr<DelegationPolicy> policy =
      ParseDelegationPolicy("map_create", "array", "", "");
  if (!policy.ok()) return policy.status();
  return RunWithDelegatedBpffs(
      *policy,
      [&](int bpffs) -> absl::Status {
        absl::StatusOr<UniqueFd> token = CreateToken(bpffs);
        if (!token.ok()) return token.status();
        absl::StatusOr<DelegationPolicy> info = ReadTokenInfo(token->get());
        if (!info.ok()) return info.status();
        if (*info != *policy) {
          return absl::InternalError(absl::StrCat("the token allows ",
                                                  FormatDelegationPolicy(*info), ", not ",
                                                  FormatDelegationPolicy(*policy)));
        }
        return absl::OkStatus();
      },
      kProbeTimeout);
}

}  // namespace

TokenSupport ProbeTokenSupport() {
  return TokenSupport{ProbeDelegateOptions(), ProbeBtfNames(), ProbeThrowawayToken()};
}

}  // namespace tokenbox
