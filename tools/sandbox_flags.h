#ifndef TOKENBOX_TOOLS_SANDBOX_FLAGS_H_
#define TOKENBOX_TOOLS_SANDBOX_FLAGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "ns/id_map.h"
#include "sandbox/command.h"
#include "sandbox/launch_options.h"
#include "sandbox/sandbox.h"
#include "token/capability_set.h"
#include "token/delegation_policy.h"
#include "tools/option_parser.h"

namespace tokenbox {

// What the options of `run`, `fuzz` and `explain` ask for, gathered in the order given.
struct SandboxRequest {
  SandboxBuilder sandbox;
  CommandBuilder command;
  NewNamespaces namespaces;
  bool program_is_pid1 = false;
  std::optional<uint32_t> uid, gid;
  std::vector<IdRange> user_ranges, group_ranges;
  // The delegation (--delegate-cmds, -maps, -progs, -attachs) and the capabilities kept (CAP_BPF
  // and those --keep-caps names), which the sandbox is given too. Each of these options is
  // given at most once (`given_once` names those given).
  DelegationPolicy policy;
  CapabilitySet kept_caps;
  std::vector<std::string> given_once;
  LaunchOptions launch;
  bool via_fork_server = false;
  bool pty = false;  // The program gets a pseudo-terminal that tokenbox relays (tools/pty_relay.h).
  const char* seccomp_option = nullptr;  // Which option gave the seccomp filter, if one did.
};

// The commands that take options from the table.
enum FlagUser : unsigned {
  kRunFlag = 1u << 0,
  kFuzzFlag = 1u << 1,
  kExplainFlag = 1u << 2,
};

// Where an option's help is listed: among the delegation policy's, or the sandbox's.
enum class FlagSection { kPolicy, kSandbox };

// One option, stated once for every command that takes it: its name, what its value is called
// (nullptr when it takes none), its help text, which commands take it, and what it does to the
// request.
struct SandboxFlag {
  const char* name;
  const char* value_name;  // Two names with a space between for two values: "SRC DEST".
  const char* help;        // Lines after the first are indented under it.
  FlagSection section;
  unsigned users;          // FlagUser bits.
  absl::Status (*apply)(const ParsedOption& option, SandboxRequest& request);
};

// A protection every sandbox has by default, and the option that gives it up, whose help says
// what that costs (nullptr when nothing does). `tokenbox probe` lists them.
struct SandboxDefault {
  const char* protection;
  const char* opt_out;
};
absl::Span<const SandboxDefault> SandboxDefaults();

// The one table of options (tools/sandbox_flag_table.cc), in the order `run --help` lists them.
absl::Span<const SandboxFlag> AllSandboxFlags();
// The option called `name`, or nullptr.
const SandboxFlag* FindSandboxFlag(absl::string_view name);
// Those `user` takes, in the same order.
std::vector<SandboxFlag> SandboxFlagsFor(FlagUser user);

// Parses a command's line with `flags`, and `extra` options of its own (whose ids must be below
// 1000).
absl::StatusOr<CommandLine> ParseSandboxCommandLine(int argc, char** argv,
                                                    absl::Span<const SandboxFlag> flags,
                                                    absl::Span<const OptionSpec> extra = {});

// The help block of `flags`: the policy's, after a paragraph on its syntax, then the others,
// after `sandbox_heading` (a line such as "Sandbox:").
std::string SandboxFlagsHelp(absl::Span<const SandboxFlag> flags, absl::string_view sandbox_heading);
// One option's lines in such a block.
std::string OptionHelpLines(absl::string_view name, const char* value_name, absl::string_view help);

// Whether --help was given: it wins over every other option, right or wrong.
bool HelpAsked(const CommandLine& line);

// Applies the parsed options that are `flags` (others are skipped), in the order they were
// given, and then what depends on several of them (policy, ids, namespaces). One error line
// names the option at fault.
absl::StatusOr<SandboxRequest> ApplySandboxFlags(const CommandLine& line,
                                                 absl::Span<const SandboxFlag> flags);

}  // namespace tokenbox

#endif  // TOKENBOX_TOOLS_SANDBOX_FLAGS_H_
