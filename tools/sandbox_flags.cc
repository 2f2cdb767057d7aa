#include "tools/sandbox_flags.h"

#include <linux/capability.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace tokenbox {
namespace {

// Option ids of the table's options: kFirstFlagId + the option's index in the span it was
// parsed with. A command's own options use ids below it.
constexpr int kFirstFlagId = 1000;
constexpr size_t kHelpColumn = 28;

constexpr char kPolicySyntax[] =
    "Delegation policy (the kernel's bpffs syntax: items separated by ':' or ',', each a\n"
    "name without its enum prefix in any case, a mask as decimal or 0x hex, or 'any'):\n";

// bubblewrap's two-valued options ("--bind SRC DEST") name both values, with a space between.
int ValueCount(const char* value_name) {
  if (value_name == nullptr) return 0;
  return absl::string_view(value_name).find(' ') == absl::string_view::npos ? 1 : 2;
}

// What depends on several options at once, after all of them.
absl::Status Finish(SandboxRequest& request) {
  if (request.uid.has_value() && !request.user_ranges.empty()) {
    return absl::InvalidArgumentError("give --uid or --map-users, not both");
  }
  if (request.gid.has_value() && !request.group_ranges.empty()) {
    return absl::InvalidArgumentError("give --gid or --map-groups, not both");
  }
  if (request.uid.has_value()) request.sandbox.HostUser(*request.uid);
  if (request.gid.has_value()) request.sandbox.HostGroup(*request.gid);
  for (auto [ranges, is_user] : {std::pair{&request.user_ranges, true},
                                 std::pair{&request.group_ranges, false}}) {
    if (ranges->empty()) continue;
    absl::StatusOr<IdMap> map = IdMap::Create(*ranges);
    if (!map.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(is_user ? "--map-users: " : "--map-groups: ", map.status().message()));
    }
    is_user ? request.sandbox.UidMap(*map) : request.sandbox.GidMap(*map);
  }
  request.sandbox.Namespaces(request.namespaces);
  if (request.program_is_pid1) request.sandbox.ProgramAsPid1();
  request.kept_caps = request.kept_caps.With(CAP_BPF);
  request.sandbox.Policy(request.policy).KeepCapabilities(request.kept_caps);
  return absl::OkStatus();
}

}  // namespace

const SandboxFlag* FindSandboxFlag(absl::string_view name) {
  for (const SandboxFlag& flag : AllSandboxFlags()) {
    if (name == flag.name) return &flag;
  }
  return nullptr;
}

std::vector<SandboxFlag> SandboxFlagsFor(FlagUser user) {
  std::vector<SandboxFlag> flags;
  for (const SandboxFlag& flag : AllSandboxFlags()) {
    if ((flag.users & user) != 0) flags.push_back(flag);
  }
  return flags;
}

absl::StatusOr<CommandLine> ParseSandboxCommandLine(int argc, char** argv,
                                                    absl::Span<const SandboxFlag> flags,
                                                    absl::Span<const OptionSpec> extra) {
  std::vector<OptionSpec> specs(extra.begin(), extra.end());
  for (size_t i = 0; i < flags.size(); ++i) {
    specs.push_back(
        {flags[i].name, ValueCount(flags[i].value_name), kFirstFlagId + static_cast<int>(i)});
  }
  return ParseCommandLine(argc, argv, specs);
}

std::string OptionHelpLines(absl::string_view name, const char* value_name, absl::string_view help) {
  std::string usage = absl::StrCat("  --", name);
  if (value_name != nullptr) {
    absl::StrAppend(&usage, ValueCount(value_name) == 2 ? " " : "=", value_name);
  }
  usage.resize(std::max(usage.size() + 1, kHelpColumn), ' ');
  return absl::StrCat(usage,
                      absl::StrReplaceAll(help, {{"\n", "\n" + std::string(kHelpColumn, ' ')}}),
                      "\n");
}

std::string SandboxFlagsHelp(absl::Span<const SandboxFlag> flags,
                             absl::string_view sandbox_heading) {
  std::string help;
  for (FlagSection section : {FlagSection::kPolicy, FlagSection::kSandbox}) {
    std::string lines;
    for (const SandboxFlag& flag : flags) {
      if (flag.section == section) {
        absl::StrAppend(&lines, OptionHelpLines(flag.name, flag.value_name, flag.help));
      }
    }
    if (lines.empty()) continue;
    if (section == FlagSection::kPolicy) {
      absl::StrAppend(&help, kPolicySyntax, lines);
    } else {
      absl::StrAppend(&help, sandbox_heading, sandbox_heading.empty() ? "" : "\n", lines);
    }
  }
  return help;
}

bool HelpAsked(const CommandLine& line) {
  return std::any_of(line.options.begin(), line.options.end(),
                     [](const ParsedOption& option) { return option.name == "help"; });
}

absl::StatusOr<SandboxRequest> ApplySandboxFlags(const CommandLine& line,
                                                 absl::Span<const SandboxFlag> flags) {
  SandboxRequest request;
  for (const ParsedOption& option : line.options) {
    const int index = option.id - kFirstFlagId;
    if (index < 0 || static_cast<size_t>(index) >= flags.size()) continue;
    if (absl::Status s = flags[index].apply(option, request); !s.ok()) return s;
  }
  if (absl::Status s = Finish(request); !s.ok()) return s;
  return request;
}

}  // namespace tokenbox
