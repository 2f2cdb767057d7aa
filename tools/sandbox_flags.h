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
#include "tools/option_parser.h"

namespace tokenbox {

// What the sandbox options of `run` and `fuzz` ask for, gathered in the order given.
struct SandboxRequest {
  SandboxBuilder sandbox;
  CommandBuilder command;
  NewNamespaces namespaces;
  bool program_is_pid1 = false;
  std::optional<uint32_t> uid, gid;
  std::vector<IdRange> user_ranges, group_ranges;
  LaunchOptions launch;
  bool via_fork_server = false;
  bool pty = false;  // The program gets a pseudo-terminal that tokenbox relays (tools/pty_relay.h).
  const char* seccomp_option = nullptr;  // Which option gave the seccomp filter, if one did.
};

// One option of `run` or `fuzz`, stated once: its name, what its value is called (nullptr when
// it takes none), its help text, and what it does to the request.
struct SandboxFlag {
  const char* name;
  const char* value_name;  // Two names with a space between for two values: "SRC DEST".
  const char* help;        // Lines after the first are indented under it.
  absl::Status (*apply)(const ParsedOption& option, SandboxRequest& request);
};

// A protection every sandbox has by default, and the option that gives it up, whose help says
// what that costs (nullptr when nothing does). `tokenbox probe` lists them.
struct SandboxDefault {
  const char* protection;
  const char* opt_out;
};
absl::Span<const SandboxDefault> SandboxDefaults();

// Every sandbox option, in the order `run --help` lists them.
absl::Span<const SandboxFlag> AllSandboxFlags();
// The option called `name`, or nullptr.
const SandboxFlag* FindSandboxFlag(absl::string_view name);
// Those of them a command with fewer options (`fuzz`) takes, in the same order.
std::vector<SandboxFlag> SandboxFlagsNamed(const std::vector<std::string>& names);

// The option specs to parse `flags` with (besides the policy options), and their help block.
std::vector<OptionSpec> SandboxOptionSpecs(absl::Span<const SandboxFlag> flags);
std::string SandboxFlagsHelp(absl::Span<const SandboxFlag> flags);

// Whether --help was given: it wins over every other option, right or wrong.
bool HelpAsked(const CommandLine& line);

// Applies the parsed options that are `flags` (others are skipped), in the order they were
// given, and then what depends on several of them (ids, namespaces, filesystem view). One
// error line names the option at fault.
absl::StatusOr<SandboxRequest> ApplySandboxFlags(const CommandLine& line,
                                                 absl::Span<const SandboxFlag> flags);

}  // namespace tokenbox

#endif  // TOKENBOX_TOOLS_SANDBOX_FLAGS_H_
