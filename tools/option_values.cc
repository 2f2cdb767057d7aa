#include "tools/option_values.h"

#include <limits.h>
#include <unistd.h>

#include <cmath>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"

namespace tokenbox {

std::string HostPath(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) return path;  // The builder then names it.
  return absl::StrCat(cwd, "/", path);
}

absl::StatusOr<uint64_t> ParseSize(const std::string& text, const char* option) {
  static constexpr std::pair<char, int> kShifts[] = {{'K', 10}, {'M', 20}, {'G', 30}, {'T', 40}};
  std::string digits = text;
  int shift = 0;
  for (auto [suffix, bits] : kShifts) {
    if (!digits.empty() && absl::ascii_toupper(digits.back()) == suffix) {
      digits.pop_back();
      shift = bits;
    }
  }
  uint64_t value = 0;
  if (digits.empty() || !absl::c_all_of(digits, absl::ascii_isdigit) ||
      !absl::SimpleAtoi(digits, &value) || value > (~uint64_t{0} >> shift)) {
    return absl::InvalidArgumentError(absl::StrCat(
        option, ": '", Printable(text), "' is not a size (bytes, or a number with K, M, G or T)"));
  }
  return value << shift;
}

absl::StatusOr<uint64_t> ParseCount(const std::string& text, const char* option, uint64_t max) {
  uint64_t value = 0;
  if (text.empty() || !absl::c_all_of(text, absl::ascii_isdigit) ||
      !absl::SimpleAtoi(text, &value) || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(option, ": '", Printable(text), "' is not a number up to ", max));
  }
  return value;
}

absl::StatusOr<absl::Duration> ParseTimeout(const std::string& text) {
  absl::Duration duration;
  double seconds;
  bool parsed;
  if (absl::SimpleAtod(text, &seconds)) {
    parsed = std::isfinite(seconds);
    duration = absl::Seconds(seconds);
  } else {
    parsed = absl::ParseDuration(text, &duration);
  }
  if (!parsed || duration == absl::InfiniteDuration() || duration == -absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--timeout: '", Printable(text), "' is not a duration (30s, 1.5m, 500ms, or seconds)"));
  }
  return duration;
}

}  // namespace tokenbox
