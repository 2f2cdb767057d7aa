#include "tools/option_parser.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "ns/errno_status.h"

namespace tokenbox {
absl::StatusOr<CommandLine> ParseCommandLine(int argc, char** argv,
                                             absl::Span<const OptionSpec> specs) {
  CommandLine line;
  int i = 1;
  for (; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") {
      line.saw_double_dash = true;
      ++i;
      break;
    }
    if (!absl::StartsWith(arg, "--")) {
      if (absl::StartsWith(arg, "-") && arg.size() > 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown option '", Printable(arg), "' (options are long: --name)"));
      }
      break;  // The first operand.
    }
    absl::string_view body = arg.substr(2);
    absl::string_view name = body;
    absl::string_view value;
    bool has_inline_value = false;
    if (size_t eq = body.find('='); eq != absl::string_view::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_inline_value = true;
    }
    const OptionSpec* spec = nullptr;
    for (const OptionSpec& candidate : specs) {
      if (name == candidate.name) spec = &candidate;
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown option '--", Printable(name), "'"));
    }
    if (spec->value_count == 0) {
      if (has_inline_value) {
        return absl::InvalidArgumentError(
            absl::StrCat("option '--", spec->name, "' takes no value"));
      }
      line.options.push_back({spec->id, spec->name, "", ""});
      continue;
    }
    // "--timeout -- prog" forgot the value; taking "--" as it would blame the missing "--".
    auto is_value = [&](int at) { return at < argc && absl::string_view(argv[at]) != "--"; };
    if (spec->value_count == 2) {
      if (has_inline_value || !is_value(i + 1) || !is_value(i + 2)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "option '--", spec->name, "' needs two values, each after a space"));
      }
      line.options.push_back({spec->id, spec->name, argv[i + 1], argv[i + 2]});
      i += 2;
      continue;
    }
    if (!has_inline_value) {
      if (!is_value(i + 1)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "option '--", spec->name, "' needs a value (--", spec->name, "=VALUE)"));
      }
      value = argv[++i];
    }
    line.options.push_back({spec->id, spec->name, std::string(value), ""});
  }
  for (; i < argc; ++i) line.operands.emplace_back(argv[i]);
  return line;
}

}  // namespace tokenbox
