// Fuzzes the parser of tokenboxd's policy file (/etc/tokenbox/delegation.conf), which an
// administrator writes and every request is judged by.
//
// Input: the file's text. When it parses, each line's grant, shown in the file's own syntax
// (FormatGrant, what `tokenbox policy show` prints), must parse back to the same grant; when it
// does not, the error must say where (the file, and a line that exists).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "sandbox/service/grant_policy.h"
#include "sandbox/service/grant_syntax.h"
#include "tests/fuzz/fuzz_check.h"

namespace tokenbox {
namespace {

constexpr char kPath[] = "/fuzzed.conf";

std::string WhoOf(const GrantPolicy::Line& line) {
  switch (line.who) {
    case GrantPolicy::Line::Who::kUser: return line.name;
    case GrantPolicy::Line::Who::kGroup: return absl::StrCat("@", line.name);
    case GrantPolicy::Line::Who::kAnyone: return "*";
  }
  return "*";
}

void CheckLineRoundTrip(const GrantPolicy::Line& line) {
  const std::string shown =
      FormatGrant(line.grant.policy, line.grant.caps, line.grant.host_tracing);
  const std::string text = absl::StrCat(WhoOf(line), " ", shown, "\n");
  absl::StatusOr<GrantPolicy> again = GrantPolicy::Parse(text, kPath);
  TB_FUZZ_CHECK(again.ok(), absl::StrCat("line ", line.number, " shows as '", text,
                                         "', which does not parse: ", again.status().ToString()));
  TB_FUZZ_CHECK(again->lines().size() == 1, "one shown line parses as another number of lines");
  const Grant& reread = again->lines()[0].grant;
  TB_FUZZ_CHECK(reread.policy == line.grant.policy && reread.caps == line.grant.caps &&
                    reread.host_tracing == line.grant.host_tracing,
                absl::StrCat("line ", line.number, " shows as '", text, "', which grants otherwise"));
}

}  // namespace
}  // namespace tokenbox

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tokenbox;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<GrantPolicy> policy = GrantPolicy::Parse(text, kPath);
  if (!policy.ok()) {
    // "/fuzzed.conf:LINE: ...", LINE one of the text's.
    const std::string message(policy.status().message());
    const std::string prefix = absl::StrCat(kPath, ":");
    TB_FUZZ_CHECK(absl::StartsWith(message, prefix),
                  absl::StrCat("a refusal that does not name the file: ", message));
    int line = 0;
    const absl::string_view rest = absl::string_view(message).substr(prefix.size());
    const int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
    TB_FUZZ_CHECK(absl::SimpleAtoi(rest.substr(0, rest.find(':')), &line) && line >= 1 &&
                      line <= lines,
                  absl::StrCat("a refusal that names no line of the text: ", message));
    return 0;
  }
  for (const GrantPolicy::Line& line : policy->lines()) {
    TB_FUZZ_CHECK(line.number >= 1, "a line numbered below 1");
    CheckLineRoundTrip(line);
  }
  (void)policy->For(0);
  return 0;
}
