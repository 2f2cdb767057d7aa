#include "token/capability_set.h"

#include <sys/capability.h>

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ns/errno_status.h"

namespace tokenbox {

CapabilitySet CapabilitySet::Of(std::initializer_list<int> caps) {
  CapabilitySet set;
  for (int cap : caps) set = set.With(cap);
  return set;
}

absl::StatusOr<CapabilitySet> CapabilitySet::Parse(absl::string_view text) {
  CapabilitySet set;
  if (text.empty()) return set;
  for (absl::string_view item : absl::StrSplit(text, absl::ByAnyChar(",:"))) {
    if (item.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("empty capability name in '", Printable(text), "'"));
    }
    std::string name = absl::AsciiStrToLower(item);
    if (!absl::StartsWith(name, "cap_")) name = absl::StrCat("cap_", name);
    cap_value_t value;
    if (cap_from_name(name.c_str(), &value) != 0 || value < 0 || value >= 64 ||
        absl::ascii_isdigit(static_cast<unsigned char>(name[4]))) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown capability '", Printable(item),
                       "' (names look like net_admin or cap_bpf)"));
    }
    set = set.With(value);
  }
  return set;
}

std::string CapabilityName(int cap) {
  char* name = cap_to_name(cap);
  std::string result = name != nullptr ? name : absl::StrCat("cap_", cap);
  cap_free(name);
  return result;
}

std::string CapabilitySet::ToString() const {
  std::vector<std::string> names;
  for (int cap = 0; cap < 64; ++cap) {
    if (Has(cap)) names.push_back(CapabilityName(cap));
  }
  return absl::StrJoin(names, ",");
}

}  // namespace tokenbox
