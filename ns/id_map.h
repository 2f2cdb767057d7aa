#ifndef TOKENBOX_NS_ID_MAP_H_
#define TOKENBOX_NS_ID_MAP_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tokenbox {

// One line of /proc/PID/uid_map or gid_map: ids [inside, inside+count) in the namespace are
// ids [outside, outside+count) in its parent.
struct IdRange {
  uint32_t inside = 0;
  uint32_t outside = 0;
  uint32_t count = 0;

  friend bool operator==(const IdRange& a, const IdRange& b) {
    return a.inside == b.inside && a.outside == b.outside && a.count == b.count;
  }
};

// The kernel accepts at most this many ranges per map (UID_GID_MAP_MAX_EXTENTS).
inline constexpr size_t kMaxIdRanges = 340;
// (uid_t)-1 is never a valid id, so the highest usable id is one below it.
inline constexpr uint64_t kIdLimit = 0xffffffffull;

// A validated uid or gid map: every range the kernel would reject is refused here first, with a
// message that names the fault, so a bad map never reaches a half-built namespace.
class IdMap {
 public:
  // Checks each fault the kernel checks: a zero count, a range that wraps past 2^32-1, ranges
  // that overlap inside or outside, more than kMaxIdRanges ranges, a map text that does not fit
  // in the single write() of at most one page the kernel accepts.
  static absl::StatusOr<IdMap> Create(std::vector<IdRange> ranges);

  // Parses "INSIDE:OUTSIDE:COUNT", several separated by ',' (the form of --map-users).
  // Ids are decimal and unsigned; anything else is refused.
  static absl::StatusOr<IdMap> Parse(absl::string_view text);

  // Maps the single id `inside` to `outside`.
  static absl::StatusOr<IdMap> Single(uint32_t inside, uint32_t outside);

  const std::vector<IdRange>& ranges() const { return ranges_; }

  // The outside id that `inside` maps to, if any.
  std::optional<uint32_t> ToOutside(uint32_t inside) const;

  // The text written to /proc/PID/{uid,gid}_map, one "inside outside count\n" line per range,
  // ids written unsigned.
  std::string ToProcText() const;

  // "INSIDE:OUTSIDE:COUNT,..." as Parse reads it.
  std::string ToString() const;

 private:
  explicit IdMap(std::vector<IdRange> ranges) : ranges_(std::move(ranges)) {}
  std::vector<IdRange> ranges_;
};

// Parses one unsigned decimal id below 2^32-1 (a uid or gid). `what` names it in errors.
absl::StatusOr<uint32_t> ParseId(absl::string_view text, absl::string_view what);

}  // namespace tokenbox

#endif  // TOKENBOX_NS_ID_MAP_H_
