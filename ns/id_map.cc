#include "ns/id_map.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ns/errno_status.h"

namespace tokenbox {
namespace {

std::string Describe(const IdRange& r) {
  return absl::StrCat(r.inside, ":", r.outside, ":", r.count);
}

bool Overlap(uint32_t a_first, uint32_t b_first, uint32_t count_a, uint32_t count_b) {
  uint64_t a_end = uint64_t{a_first} + count_a;
  uint64_t b_end = uint64_t{b_first} + count_b;
  return a_first < b_end && b_first < a_end;
}

}  // namespace

absl::StatusOr<uint32_t> ParseId(absl::string_view text, absl::string_view what) {
  if (text.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  uint64_t value = 0;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " '", Printable(text), "' is not an unsigned decimal number"));
    }
    value = value * 10 + static_cast<uint64_t>(c - '0');
    if (value > kIdLimit) break;
  }
  if (value >= kIdLimit) {
    return absl::OutOfRangeError(
        absl::StrCat(what, " '", Printable(text), "' is out of range: ids go up to ", kIdLimit - 1));
  }
  return static_cast<uint32_t>(value);
}

absl::StatusOr<IdMap> IdMap::Create(std::vector<IdRange> ranges) {
  if (ranges.empty()) return absl::InvalidArgumentError("id map has no ranges");
  if (ranges.size() > kMaxIdRanges) {
    return absl::InvalidArgumentError(absl::StrCat("id map has ", ranges.size(),
                                                   " ranges; the kernel accepts at most ",
                                                   kMaxIdRanges));
  }
  for (const IdRange& r : ranges) {
    if (r.count == 0) {
      return absl::InvalidArgumentError(absl::StrCat("id range ", Describe(r), " has count 0"));
    }
    if (uint64_t{r.inside} + r.count > kIdLimit || uint64_t{r.outside} + r.count > kIdLimit) {
      return absl::OutOfRangeError(absl::StrCat("id range ", Describe(r),
                                                " wraps around: its last id must stay below ",
                                                kIdLimit));
    }
  }
  for (size_t i = 0; i < ranges.size(); ++i) {
    for (size_t j = i + 1; j < ranges.size(); ++j) {
      const IdRange& a = ranges[i];
      const IdRange& b = ranges[j];
      if (Overlap(a.inside, b.inside, a.count, b.count)) {
        return absl::InvalidArgumentError(absl::StrCat("id ranges ", Describe(a), " and ",
                                                       Describe(b), " overlap inside"));
      }
      if (Overlap(a.outside, b.outside, a.count, b.count)) {
        return absl::InvalidArgumentError(absl::StrCat("id ranges ", Describe(a), " and ",
                                                       Describe(b), " overlap outside"));
      }
    }
  }
  IdMap map(std::move(ranges));
  // The kernel takes the whole map in one write() shorter than a page.
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  if (size_t length = map.ToProcText().size(); length >= page) {
    return absl::InvalidArgumentError(absl::StrCat("id map text is ", length,
                                                   " bytes; the kernel accepts less than ", page));
  }
  return map;
}

absl::StatusOr<IdMap> IdMap::Parse(absl::string_view text) {
  std::vector<IdRange> ranges;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    std::vector<absl::string_view> fields = absl::StrSplit(item, ':');
    if (fields.size() != 3) {
      return absl::InvalidArgumentError(
          absl::StrCat("id range '", Printable(item), "' is not INSIDE:OUTSIDE:COUNT"));
    }
    absl::StatusOr<uint32_t> inside = ParseId(fields[0], "inside id");
    if (!inside.ok()) return inside.status();
    absl::StatusOr<uint32_t> outside = ParseId(fields[1], "outside id");
    if (!outside.ok()) return outside.status();
    absl::StatusOr<uint32_t> count = ParseId(fields[2], "count");
    if (!count.ok()) return count.status();
    ranges.push_back({*inside, *outside, *count});
    if (ranges.size() > kMaxIdRanges) break;  // Create reports it; stop reading a huge input.
  }
  return Create(std::move(ranges));
}

absl::StatusOr<IdMap> IdMap::Single(uint32_t inside, uint32_t outside) {
  return Create({{inside, outside, 1}});
}

std::optional<uint32_t> IdMap::ToOutside(uint32_t inside) const {
  for (const IdRange& r : ranges_) {
    if (inside >= r.inside && uint64_t{inside} < uint64_t{r.inside} + r.count) {
      return r.outside + (inside - r.inside);
    }
  }
  return std::nullopt;
}

std::string IdMap::ToProcText() const {
  std::string text;
  for (const IdRange& r : ranges_) absl::StrAppend(&text, r.inside, " ", r.outside, " ", r.count, "\n");
  return text;
}

std::string IdMap::ToString() const {
  return absl::StrJoin(ranges_, ",", [](std::string* out, const IdRange& r) {
    absl::StrAppend(out, Describe(r));
  });
}

}  // namespace tokenbox
