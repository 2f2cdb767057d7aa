#include "tools/policy_options.h"

#include <linux/capability.h>

#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace tokenbox {

const char kPolicyOptionsHelp[] = R"(Delegation policy (the kernel's bpffs syntax: items separated by ':' or ',', each a
name without its enum prefix in any case, a mask as decimal or 0x hex, or 'any'):
  --delegate-cmds=LIST      commands, e.g. map_create:prog_load:btf_load
  --delegate-maps=LIST      map types, e.g. hash:array:ringbuf
  --delegate-progs=LIST     program types, e.g. socket_filter:xdp
  --delegate-attachs=LIST   attach types, e.g. any or cgroup_inet_ingress
  --keep-caps=LIST          capabilities kept besides CAP_BPF, e.g. net_admin,perfmon
)";

absl::StatusOr<CommandLine> ParsePolicyCommandLine(int argc, char** argv,
                                                   absl::Span<const OptionSpec> command_specs) {
  std::vector<OptionSpec> specs(std::begin(kPolicyOptionSpecs), std::end(kPolicyOptionSpecs));
  specs.insert(specs.end(), command_specs.begin(), command_specs.end());
  return ParseCommandLine(argc, argv, specs);
}

absl::StatusOr<PolicyRequest> PolicyFromCommandLine(const CommandLine& line) {
  std::string texts[4];
  bool given[5] = {};
  std::string keep_caps;
  for (const ParsedOption& option : line.options) {
    if (option.id < kOptDelegateCmds || option.id > kOptKeepCaps) continue;
    int index = option.id - kOptDelegateCmds;
    if (given[index]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "option '--", option.name, "' is given twice; list every item in one option"));
    }
    given[index] = true;
    if (option.value.empty()) {
      // An empty list means the same as no option; most likely a variable that expanded to "".
      return absl::InvalidArgumentError(absl::StrCat(
          "option '--", option.name, "' has an empty list; leave the option out to ",
          option.id == kOptKeepCaps ? "keep only cap_bpf" : "delegate none of these"));
    }
    if (option.id == kOptKeepCaps) {
      keep_caps = option.value;
    } else {
      texts[index] = option.value;
    }
  }
  absl::StatusOr<DelegationPolicy> policy =
      ParseDelegationPolicy(texts[0], texts[1], texts[2], texts[3]);
  if (!policy.ok()) return policy.status();
  absl::StatusOr<CapabilitySet> kept = CapabilitySet::Parse(keep_caps);
  if (!kept.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--keep-caps: ", kept.status().message()));
  }
  return PolicyRequest{*policy, kept->With(CAP_BPF)};
}

}  // namespace tokenbox
