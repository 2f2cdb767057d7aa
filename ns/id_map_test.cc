#include "ns/id_map.h"

#include <string>
#include <vector>

#include "tests/test_support.h"

namespace tokenbox {
namespace {

std::string ErrorOf(absl::string_view text) {
  absl::StatusOr<IdMap> map = IdMap::Parse(text);
  return map.ok() ? "" : std::string(map.status().message());
}

bool Contains(const std::string& haystack, absl::string_view needle) {
  return haystack.find(std::string(needle)) != std::string::npos;
}

TEST_CASE("A valid map parses, formats for /proc, and maps ids") {
  auto map = IdMap::Parse("0:100000:65536,65536:1000:1");
  TB_REQUIRE_OK(map);
  CHECK(map->ToProcText() == "0 100000 65536\n65536 1000 1\n");
  CHECK(map->ToString() == "0:100000:65536,65536:1000:1");
  CHECK(map->ToOutside(0) == 100000u);
  CHECK(map->ToOutside(65535) == 165535u);
  CHECK(map->ToOutside(65536) == 1000u);
  CHECK_FALSE(map->ToOutside(65537).has_value());
}

TEST_CASE("Ids of 2^31 and above are valid and written unsigned") {
  auto map = IdMap::Parse("2147483648:4294967293:1");
  TB_REQUIRE_OK(map);
  CHECK(map->ToProcText() == "2147483648 4294967293 1\n");
}

TEST_CASE("A zero count is refused") {
  CHECK(Contains(ErrorOf("0:1000:0"), "has count 0"));
}

TEST_CASE("Ranges that overlap inside are refused") {
  CHECK(Contains(ErrorOf("0:1000:10,5:5000:10"), "overlap inside"));
}

TEST_CASE("Ranges that overlap outside are refused") {
  CHECK(Contains(ErrorOf("0:1000:10,100:1005:10"), "overlap outside"));
}

TEST_CASE("Adjacent ranges do not overlap") {
  CHECK(ErrorOf("0:1000:10,10:1010:10") == "");
}

TEST_CASE("A range that wraps past 2^32-1 is refused") {
  CHECK(Contains(ErrorOf("4294967290:0:10"), "wraps around"));
  CHECK(Contains(ErrorOf("0:4294967290:6"), "wraps around"));
  CHECK(ErrorOf("0:4294967290:5") == "");
}

TEST_CASE("More ranges than the kernel accepts are refused") {
  std::vector<IdRange> ranges;
  for (uint32_t i = 0; i <= kMaxIdRanges; ++i) ranges.push_back({i, 1000 + i, 1});
  auto map = IdMap::Create(ranges);
  REQUIRE_FALSE(map.ok());
  CHECK(Contains(std::string(map.status().message()), "at most 340"));
}

TEST_CASE("A map whose text would not fit in one page is refused") {
  std::vector<IdRange> ranges;
  for (uint32_t i = 0; i < 200; ++i) ranges.push_back({2000000000u + i, 3000000000u + i, 1});
  auto map = IdMap::Create(ranges);
  REQUIRE_FALSE(map.ok());
  CHECK(Contains(std::string(map.status().message()), "the kernel accepts less than"));
}

TEST_CASE("Ids at or above 2^32-1, signs, spaces and junk are refused") {
  CHECK(Contains(ErrorOf("0:4294967295:1"), "out of range"));
  CHECK(Contains(ErrorOf("0:4294967296:1"), "out of range"));
  CHECK(Contains(ErrorOf("0:99999999999999999999999:1"), "out of range"));
  CHECK(Contains(ErrorOf("-1:1000:1"), "not an unsigned decimal"));
  CHECK(Contains(ErrorOf("+1:1000:1"), "not an unsigned decimal"));
  CHECK(Contains(ErrorOf(" 1:1000:1"), "not an unsigned decimal"));
  CHECK(Contains(ErrorOf("0x1:1000:1"), "not an unsigned decimal"));
  CHECK(Contains(ErrorOf("0:1000"), "is not INSIDE:OUTSIDE:COUNT"));
  CHECK(Contains(ErrorOf("0:1000:1:2"), "is not INSIDE:OUTSIDE:COUNT"));
  CHECK(Contains(ErrorOf(""), "is not INSIDE:OUTSIDE:COUNT"));
  CHECK(Contains(ErrorOf("0::1"), "outside id is empty"));
}

TEST_CASE("ParseId accepts the full unsigned range below 2^32-1") {
  CHECK(ParseId("0", "uid").value() == 0u);
  CHECK(ParseId("4294967294", "uid").value() == 4294967294u);
  CHECK_FALSE(ParseId("4294967295", "uid").ok());
}

}  // namespace
}  // namespace tokenbox
