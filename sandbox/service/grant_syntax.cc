#include "sandbox/service/grant_syntax.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace tokenbox {

std::optional<DelegateKind> DelegateKindOfGrantKey(absl::string_view key) {
  for (DelegateKind kind : kAllDelegateKinds) {
    if (key == GrantKeyOf(kind)) return kind;
  }
  return std::nullopt;
}

absl::string_view GrantKeyOf(DelegateKind kind) {
  absl::string_view option = OptionName(kind);  // "delegate_cmds"
  absl::ConsumePrefix(&option, "delegate_");
  return option;
}

std::string FormatGrant(const DelegationPolicy& policy, const CapabilitySet& caps,
                        bool host_tracing) {
  std::vector<std::string> items;
  for (DelegateKind kind : kAllDelegateKinds) {
    const std::string value = FormatDelegateMask(kind, policy[kind]);
    if (!value.empty()) items.push_back(absl::StrCat(GrantKeyOf(kind), "=", value));
  }
  if (!caps.empty()) items.push_back(absl::StrCat("caps=", caps.ToString()));
  if (host_tracing) items.push_back("tracing=host");
  return items.empty() ? "-" : absl::StrJoin(items, " ");
}

}  // namespace tokenbox
