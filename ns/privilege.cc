#include "ns/privilege.h"

#include <linux/capability.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace tokenbox {

bool InInitialUserNamespace() {
  std::ifstream map("/proc/self/uid_map");
  uint64_t inside = 1, outside = 1, count = 0;
  map >> inside >> outside >> count;
  std::string more;
  return map && !(map >> more) && inside == 0 && outside == 0 && count == 4294967295ull;
}

bool HasEffectiveCapability(int cap) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, "CapEff:")) continue;
    uint64_t mask = 0;
    return absl::SimpleHexAtoi(absl::StripAsciiWhitespace(rest), &mask) && ((mask >> cap) & 1);
  }
  return false;
}

std::string WhyCannotDelegate() {
  if (!InInitialUserNamespace()) {
    return "this process runs inside a user namespace (a container, or Bazel's linux-sandbox), "
           "where no capability counts for the host";
  }
  if (!HasEffectiveCapability(CAP_SYS_ADMIN)) {
    return absl::StrCat("uid ", geteuid(), " lacks CAP_SYS_ADMIN");
  }
  return "";
}

}  // namespace tokenbox
