#include "token/process_capabilities.h"

#include <linux/securebits.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "ns/errno_status.h"

namespace tokenbox {
namespace {

// In the sandbox's own user namespace these calls only fail when something outside tokenbox
// forbids them.
constexpr absl::string_view kCapabilityCallRefused =
    "the kernel refused a capability change that the sandbox's own user namespace allows: a "
    "seccomp filter or security module around the launcher may forbid it";

// Drops from the bounding set every capability but `keep` (needs CAP_SETPCAP).
absl::Status DropBoundingExcept(CapabilitySet keep) {
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (keep.Has(cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      return ErrnoStatus(errno, absl::StrCat("prctl(PR_CAPBSET_DROP, ", CapabilityName(cap), ")"),
                         kCapabilityCallRefused);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RestrictCapabilities(CapabilitySet keep) {
  cap_t caps = cap_init();  // All clear.
  if (caps == nullptr) return ErrnoStatus(errno, "cap_init");
  for (int cap = 0; cap < 64; ++cap) {
    if (!keep.Has(cap)) continue;
    cap_value_t value = cap;
    for (cap_flag_t flag : {CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE}) {
      cap_set_flag(caps, flag, 1, &value, CAP_SET);
    }
  }
  int result = cap_set_proc(caps);
  int err = errno;
  cap_free(caps);
  if (result != 0) {
    return ErrnoStatus(err, absl::StrCat("capset(", keep.empty() ? "none" : keep.ToString(), ")"),
                       "a capability can be kept only if the process still holds it");
  }
  return absl::OkStatus();
}

absl::Status LockCapabilitiesForExec(CapabilitySet keep) {
  constexpr unsigned long kSecureBits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
                                        SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED;
  if (prctl(PR_SET_SECUREBITS, kSecureBits, 0, 0, 0) != 0) {
    return ErrnoStatus(errno, "prctl(PR_SET_SECUREBITS, NOROOT|NO_SETUID_FIXUP, locked)",
                       "needs CAP_SETPCAP in the sandbox's user namespace");
  }
  if (absl::Status s = DropBoundingExcept(keep); !s.ok()) return s;
  if (absl::Status s = RestrictCapabilities(keep); !s.ok()) return s;
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    return ErrnoStatus(errno, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)",
                       kCapabilityCallRefused);
  }
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (!keep.Has(cap)) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
      return ErrnoStatus(errno, absl::StrCat("prctl(PR_CAP_AMBIENT_RAISE, ", CapabilityName(cap), ")"),
                       kCapabilityCallRefused);
    }
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return ErrnoStatus(errno, "prctl(PR_SET_NO_NEW_PRIVS)",
                       kCapabilityCallRefused);
  }
  return absl::OkStatus();
}

absl::Status KeepOnlyCapabilities(CapabilitySet keep) {
  if (absl::Status s = DropBoundingExcept(keep); !s.ok()) return s;
  return RestrictCapabilities(keep);
}

absl::StatusOr<ProcessCapabilities> ReadProcessCapabilities() {
  std::ifstream status("/proc/self/status");
  if (!status) return ErrnoStatus(errno, "open(/proc/self/status)");
  ProcessCapabilities result;
  struct Field {
    const char* key;
    CapabilitySet* set;
  } fields[] = {{"CapEff:", &result.effective},   {"CapPrm:", &result.permitted},
                {"CapInh:", &result.inheritable}, {"CapBnd:", &result.bounding},
                {"CapAmb:", &result.ambient}};
  int found = 0;
  std::string line;
  while (std::getline(status, line)) {
    for (const Field& field : fields) {
      absl::string_view rest = line;
      if (!absl::ConsumePrefix(&rest, field.key)) continue;
      uint64_t bits = 0;
      if (!absl::SimpleHexAtoi(absl::StripAsciiWhitespace(rest), &bits)) {
        return absl::DataLossError(absl::StrCat("/proc/self/status: bad ", field.key, " line"));
      }
      *field.set = CapabilitySet(bits);
      ++found;
    }
  }
  if (found != 5) return absl::DataLossError("/proc/self/status lacks a Cap* line");
  return result;
}

bool InInitialUserNamespace() {
  std::ifstream map("/proc/self/uid_map");
  uint64_t inside = 1, outside = 1, count = 0;
  map >> inside >> outside >> count;
  std::string more;
  return map && !(map >> more) && inside == 0 && outside == 0 && count == 4294967295ull;
}

std::string WhyCannotDelegate() {
  if (!InInitialUserNamespace()) {
    return "this process runs inside a user namespace (a container, or Bazel's linux-sandbox), "
           "where no capability counts for the host";
  }
  absl::StatusOr<ProcessCapabilities> caps = ReadProcessCapabilities();
  if (!caps.ok() || !caps->effective.Has(CAP_SYS_ADMIN)) {
    return absl::StrCat("uid ", geteuid(), " lacks CAP_SYS_ADMIN");
  }
  return "";
}

}  // namespace tokenbox
