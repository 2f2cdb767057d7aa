#ifndef TOKENBOX_TOOLS_OPTION_VALUES_H_
#define TOKENBOX_TOOLS_OPTION_VALUES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tokenbox {

// The values options take, each parsed one way for every option of its kind. Errors are one
// line that names `option` and quotes the value, made printable.

// A host path as the user typed it: relative to tokenbox's working directory, as in bwrap.
std::string HostPath(const std::string& path);

// "512M", "2G", "65536": bytes, with a binary K, M, G or T suffix.
absl::StatusOr<uint64_t> ParseSize(const std::string& text, const char* option);

// A decimal number up to `max`.
absl::StatusOr<uint64_t> ParseCount(const std::string& text, const char* option,
                                    uint64_t max = ~uint64_t{0});

// --timeout's "30s", "1.5m", "500ms" (absl::ParseDuration), or a plain number of seconds.
absl::StatusOr<absl::Duration> ParseTimeout(const std::string& text);

}  // namespace tokenbox

#endif  // TOKENBOX_TOOLS_OPTION_VALUES_H_
