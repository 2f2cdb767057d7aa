#ifndef TOKENBOX_TOOLS_POLICY_OPTIONS_H_
#define TOKENBOX_TOOLS_POLICY_OPTIONS_H_

#include "absl/status/statusor.h"
#include "token/capability_set.h"
#include "token/delegation_policy.h"
#include "tools/option_parser.h"

namespace tokenbox {

// The options every command that takes a policy shares (explain, run, fuzz).
enum PolicyOptionId {
  kOptDelegateCmds = 100,
  kOptDelegateMaps,
  kOptDelegateProgs,
  kOptDelegateAttachs,
  kOptKeepCaps,
};
inline constexpr OptionSpec kPolicyOptionSpecs[] = {
    {"delegate-cmds", 1, kOptDelegateCmds},
    {"delegate-maps", 1, kOptDelegateMaps},
    {"delegate-progs", 1, kOptDelegateProgs},
    {"delegate-attachs", 1, kOptDelegateAttachs},
    {"keep-caps", 1, kOptKeepCaps},
};

struct PolicyRequest {
  DelegationPolicy policy;
  CapabilitySet kept_caps;  // CAP_BPF plus --keep-caps.
};

// Parses a command that takes a policy: the policy options above plus the command's own.
absl::StatusOr<CommandLine> ParsePolicyCommandLine(int argc, char** argv,
                                                   absl::Span<const OptionSpec> command_specs);

// Reads the policy options out of a parsed command line (others are ignored). An option given
// twice is an error: all items go in one option.
absl::StatusOr<PolicyRequest> PolicyFromCommandLine(const CommandLine& line);

// The help text block describing the options above.
extern const char kPolicyOptionsHelp[];

}  // namespace tokenbox

#endif  // TOKENBOX_TOOLS_POLICY_OPTIONS_H_
