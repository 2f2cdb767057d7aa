// Fuzzes IdMap::Parse (the --map-users syntax) and checks what every accepted map promises: the
// kernel would take it as it is, and it re-parses from its own spelling.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "ns/id_map.h"
#include "tests/fuzz/fuzz_check.h"

namespace tokenbox {
namespace {

bool Overlap(uint64_t a_first, uint64_t a_count, uint64_t b_first, uint64_t b_count) {
  return a_first < b_first + b_count && b_first < a_first + a_count;
}

void CheckMap(absl::string_view text, const IdMap& map) {
  const std::string spelled = map.ToString();
  const auto& ranges = map.ranges();
  TB_FUZZ_CHECK(!ranges.empty() && ranges.size() <= kMaxIdRanges,
                absl::StrCat("'", spelled, "' has ", ranges.size(), " ranges"));
  TB_FUZZ_CHECK(map.ToProcText().size() < static_cast<size_t>(sysconf(_SC_PAGESIZE)),
                absl::StrCat("'", spelled, "' does not fit in one page of /proc text"));
  for (size_t i = 0; i < ranges.size(); ++i) {
    const IdRange& a = ranges[i];
    // The last id of a range, first + count - 1, must stay below (uid_t)-1.
    TB_FUZZ_CHECK(a.count > 0 && uint64_t{a.inside} + a.count <= kIdLimit &&
                      uint64_t{a.outside} + a.count <= kIdLimit,
                  absl::StrCat("'", spelled, "': range ", i, " is empty or wraps"));
    for (size_t j = i + 1; j < ranges.size(); ++j) {
      const IdRange& b = ranges[j];
      TB_FUZZ_CHECK(!Overlap(a.inside, a.count, b.inside, b.count) &&
                        !Overlap(a.outside, a.count, b.outside, b.count),
                    absl::StrCat("'", spelled, "': ranges ", i, " and ", j, " overlap"));
    }
  }
  absl::StatusOr<IdMap> again = IdMap::Parse(spelled);
  TB_FUZZ_CHECK(again.ok(), absl::StrCat("'", text, "' spells as '", spelled,
                                         "', which does not parse: ", again.status().ToString()));
  TB_FUZZ_CHECK(again->ranges() == ranges,
                absl::StrCat("'", text, "' spells as '", spelled, "', which parses differently"));
}

}  // namespace
}  // namespace tokenbox

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<tokenbox::IdMap> map = tokenbox::IdMap::Parse(text);
  if (map.ok()) tokenbox::CheckMap(text, *map);
  return 0;
}
