#ifndef TOKENBOX_TOOLS_OPTION_PARSER_H_
#define TOKENBOX_TOOLS_OPTION_PARSER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace tokenbox {

// One long option a command accepts.
struct OptionSpec {
  const char* name;  // Without the dashes: "delegate-cmds".
  int value_count;   // 0, 1, or 2 (as bubblewrap's "--bind SRC DEST": only space-separated).
  int id;
};

struct ParsedOption {
  int id;
  std::string name;
  std::string value;
  std::string second_value;  // Of an option that takes two.
};

struct CommandLine {
  std::vector<ParsedOption> options;  // In the order given; repeats kept.
  std::vector<std::string> operands;  // Everything after "--", or after the first operand.
  bool saw_double_dash = false;
};

// GNU-style long options: "--name=value" and "--name value". Names must match exactly (no
// abbreviations: a sandbox should never guess which option was meant). Parsing stops at "--"
// or at the first argument that is not an option, so a program's own options are never
// taken for tokenbox's. argv[0] is the command's name and is skipped. Errors are one line:
// "unknown option '--x'", "option '--delegate-cmds' needs a value", ...
absl::StatusOr<CommandLine> ParseCommandLine(int argc, char** argv,
                                             absl::Span<const OptionSpec> specs);

}  // namespace tokenbox

#endif  // TOKENBOX_TOOLS_OPTION_PARSER_H_
