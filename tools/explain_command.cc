#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "token/policy_lint.h"
#include "tools/commands.h"
#include "tools/json.h"
#include "tools/option_parser.h"
#include "tools/sandbox_flags.h"

namespace tokenbox {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;

enum { kOptJson = 1 };
constexpr char kJsonHelp[] = "print one JSON object";

constexpr char kExplainUsage[] = R"(Usage: tokenbox explain [POLICY OPTIONS] [--json]

Shows what a delegation policy means before anything is launched: the canonical form of
each delegate_* option (as mountinfo will show it), the capabilities the sandboxed program
needs inside its user namespace for everything delegated to work, what the delegated program
types reach beyond the sandbox (a network namespace, cgroups, the whole machine) and what
tokenbox requires for each, and warnings about delegations that will not work as written.
Needs no privileges and touches nothing.

)";

constexpr char kExplainTail[] = R"(
Examples:
  tokenbox explain --delegate-cmds=prog_load:btf_load:map_create \
      --delegate-maps=hash --delegate-progs=xdp:socket_filter --delegate-attachs=any
  tokenbox explain --delegate-cmds=0x21 --delegate-progs=any --keep-caps=net_admin --json

Exit status: 0 when the policy parses (warnings do not change it), 2 on a usage error or
an invalid policy, with one line on stderr.
)";

std::string JsonList(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& item : items) quoted.push_back(JsonString(item));
  return absl::StrCat("[", absl::StrJoin(quoted, ","), "]");
}

}  // namespace

int ExplainCommand(int argc, char** argv) {
  static constexpr OptionSpec kExplainSpecs[] = {{"json", 0, kOptJson}};
  const std::vector<SandboxFlag> flags = SandboxFlagsFor(kExplainFlag);
  absl::StatusOr<CommandLine> line = ParseSandboxCommandLine(argc, argv, flags, kExplainSpecs);
  if (!line.ok()) {
    std::fprintf(stderr, "tokenbox explain: %s (see tokenbox explain --help)\n",
                 std::string(line.status().message()).c_str());
    return kExitUsage;
  }
  if (HelpAsked(*line)) {
    std::printf("%s%s%s%s", kExplainUsage, SandboxFlagsHelp(flags, "").c_str(),
                OptionHelpLines("json", nullptr, kJsonHelp).c_str(), kExplainTail);
    return kExitOk;
  }
  const bool json = std::any_of(line->options.begin(), line->options.end(),
                                [](const ParsedOption& option) { return option.id == kOptJson; });
  if (!line->operands.empty()) {
    std::fprintf(stderr, "tokenbox explain: unexpected argument '%s' (see tokenbox explain --help)\n",
                 line->operands[0].c_str());
    return kExitUsage;
  }
  absl::StatusOr<SandboxRequest> request = ApplySandboxFlags(*line, flags);
  if (!request.ok()) {
    std::fprintf(stderr, "tokenbox explain: %s\n", std::string(request.status().message()).c_str());
    return kExitUsage;
  }
  const DelegationPolicy& policy = request->policy;
  CapabilitySet required = RequiredCapabilities(policy);
  std::vector<std::string> warnings = Lint(policy, request->kept_caps);
  std::vector<std::string> reach = DescribeReach(policy);
  if (json) {
    std::string out = "{\"policy\":{";
    for (DelegateKind kind : kAllDelegateKinds) {
      absl::StrAppend(&out, kind == DelegateKind::kCmds ? "" : ",", JsonString(OptionName(kind)),
                      ":{\"canonical\":", JsonString(FormatDelegateMask(kind, policy[kind])),
                      ",\"mask\":", JsonString(absl::StrCat("0x", absl::Hex(policy[kind].bits))),
                      ",\"any\":", policy[kind].any ? "true" : "false", "}");
    }
    absl::StrAppend(&out, "},\"required_caps\":", JsonString(required.ToString()),
                    ",\"kept_caps\":", JsonString(request->kept_caps.ToString()),
                    ",\"reach\":", JsonList(reach), ",\"warnings\":", JsonList(warnings),
                    "}\n");
    std::fputs(out.c_str(), stdout);
    return kExitOk;
  }
  for (DelegateKind kind : kAllDelegateKinds) {
    std::string canonical = FormatDelegateMask(kind, policy[kind]);
    std::printf("%-17s %s\n", OptionName(kind), canonical.empty() ? "(nothing)" : canonical.c_str());
  }
  std::printf("%-17s %s\n", "required caps", required.ToString().c_str());
  std::printf("%-17s %s\n", "kept caps", request->kept_caps.ToString().c_str());
  for (const std::string& sentence : reach) std::printf("reach: %s\n", sentence.c_str());
  for (const std::string& warning : warnings) std::printf("warning: %s\n", warning.c_str());
  return kExitOk;
}

}  // namespace tokenbox
