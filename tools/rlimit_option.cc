#include "tools/rlimit_option.h"

#include <sys/resource.h>

#include <cerrno>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ns/errno_status.h"

namespace tokenbox {
namespace {

struct RlimitName {
  const char* name;  // As prlimit(1) spells its option.
  int resource;
};

constexpr RlimitName kRlimits[] = {
    {"as", RLIMIT_AS},         {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},     {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},
    {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO}, {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
};

// A value as prlimit takes it; nullopt for an empty one (the limit is kept).
absl::StatusOr<std::optional<rlim_t>> ParseValue(absl::string_view text, absl::string_view what) {
  if (text.empty()) return std::optional<rlim_t>();
  if (text == "unlimited" || text == "infinity") return std::optional<rlim_t>(RLIM_INFINITY);
  uint64_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || value >= RLIM_INFINITY) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " '", text, "' is not a number or \"unlimited\""));
  }
  return std::optional<rlim_t>(value);
}

}  // namespace

std::string RlimitNames() {
  std::vector<std::string> names;
  for (const RlimitName& entry : kRlimits) names.push_back(entry.name);
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<ResourceLimit> ParseRlimitOption(const std::string& text) {
  const std::string option = absl::StrCat("--rlimit: '", Printable(text), "'");
  const size_t eq = text.find('=');
  if (eq == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(option, " is not NAME=SOFT[:HARD]"));
  }
  const std::string name = absl::AsciiStrToLower(text.substr(0, eq));
  const RlimitName* found = nullptr;
  for (const RlimitName& entry : kRlimits) {
    if (name == entry.name) found = &entry;
  }
  if (found == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(option, ": no resource limit is called '", Printable(text.substr(0, eq)),
                     "' (one of ", RlimitNames(), ")"));
  }
  const absl::string_view values = absl::string_view(text).substr(eq + 1);
  const size_t colon = values.find(':');
  absl::StatusOr<std::optional<rlim_t>> soft =
      ParseValue(values.substr(0, colon), absl::StrCat(option, ": soft limit"));
  if (!soft.ok()) return soft.status();
  std::optional<rlim_t> hard = *soft;
  if (colon != absl::string_view::npos) {
    absl::StatusOr<std::optional<rlim_t>> parsed =
        ParseValue(values.substr(colon + 1), absl::StrCat(option, ": hard limit"));
    if (!parsed.ok()) return parsed.status();
    hard = *parsed;
  }
  if (!soft->has_value() && !hard.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(option, " gives no limit"));
  }
  rlimit own = {};
  if (getrlimit(found->resource, &own) != 0) return ErrnoStatus(errno, "getrlimit");
  const ResourceLimit limit = {found->resource, soft->value_or(own.rlim_cur),
                               hard.value_or(own.rlim_max)};
  if (limit.soft > limit.hard) {
    const bool kept_own = !soft->has_value() || !hard.has_value();
    return absl::InvalidArgumentError(
        absl::StrCat(option, ": the soft limit exceeds the hard limit",
                     kept_own ? " (tokenbox's own, which a value left out keeps)" : ""));
  }
  return limit;
}

}  // namespace tokenbox
