// Fuzzes the delegate_* parser and its canonical formatter.
//
// Input: one selector byte (taken modulo 4, so '0'..'3' in a seed file pick cmds, maps, progs,
// attachs) and the option text. The whole text is parsed as that one option; split at the first
// three newlines it is also parsed as the four options of a policy.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "tests/fuzz/fuzz_check.h"
#include "token/delegation_policy.h"

namespace tokenbox {
namespace {

void CheckRoundTrip(DelegateKind kind, absl::string_view text) {
  absl::StatusOr<DelegateMask> mask = ParseDelegateMask(kind, text);
  if (!mask.ok()) return;
  std::string canonical = FormatDelegateMask(kind, *mask);
  absl::StatusOr<DelegateMask> again = ParseDelegateMask(kind, canonical);
  TB_FUZZ_CHECK(again.ok(), absl::StrCat(OptionName(kind), "='", text, "' formats as '", canonical,
                                         "', which does not parse: ", again.status().ToString()));
  TB_FUZZ_CHECK(*again == *mask, absl::StrCat(OptionName(kind), "='", text, "' formats as '",
                                              canonical, "', which parses to another mask"));
  TB_FUZZ_CHECK(FormatDelegateMask(kind, *again) == canonical,
                absl::StrCat(OptionName(kind), "='", canonical, "' is not canonical"));
}

// The policy parser must agree with the four single-option parses it is made of: valid exactly
// when all four are, and then holding their masks.
void CheckPolicy(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, absl::MaxSplits('\n', 3));
  parts.resize(4);
  absl::StatusOr<DelegationPolicy> policy =
      ParseDelegationPolicy(parts[0], parts[1], parts[2], parts[3]);
  for (DelegateKind kind : kAllDelegateKinds) {
    absl::string_view part = parts[static_cast<int>(kind)];
    absl::StatusOr<DelegateMask> mask = ParseDelegateMask(kind, part);
    if (!mask.ok()) {
      TB_FUZZ_CHECK(!policy.ok(), absl::StrCat("policy accepted although ", OptionName(kind),
                                               "='", part, "' is refused"));
      return;
    }
    if (policy.ok()) {
      TB_FUZZ_CHECK((*policy)[kind] == *mask, absl::StrCat("policy holds another ",
                                                           OptionName(kind), " than '", part,
                                                           "' parses to"));
    }
  }
  TB_FUZZ_CHECK(policy.ok(), absl::StrCat("policy refused although its four options are valid: ",
                                          policy.status().ToString()));
}

}  // namespace
}  // namespace tokenbox

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const tokenbox::DelegateKind kind = tokenbox::kAllDelegateKinds[data[0] % 4];
  const absl::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  tokenbox::CheckRoundTrip(kind, text);
  tokenbox::CheckPolicy(text);
  return 0;
}
