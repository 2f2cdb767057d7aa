#ifndef TOKENBOX_TOOLS_RLIMIT_OPTION_H_
#define TOKENBOX_TOOLS_RLIMIT_OPTION_H_

#include <string>

#include "absl/status/statusor.h"
#include "sandbox/command.h"

namespace tokenbox {

// `--rlimit=NAME=SOFT[:HARD]`, with prlimit(1)'s names (nofile, NOFILE, as, core, ...) and values
// (a number or "unlimited"). As with prlimit, one value sets both limits, and "SOFT:" or ":HARD"
// keeps the other at tokenbox's own. A limit the sandbox's program cannot raise: raising a
// hard limit needs CAP_SYS_RESOURCE on the host.
absl::StatusOr<ResourceLimit> ParseRlimitOption(const std::string& text);

// The names, for --help: "as, core, cpu, ...".
std::string RlimitNames();

}  // namespace tokenbox

#endif  // TOKENBOX_TOOLS_RLIMIT_OPTION_H_
