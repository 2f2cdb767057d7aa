#ifndef TOKENBOX_TOKEN_BPF_NAMES_H_
#define TOKENBOX_TOKEN_BPF_NAMES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace tokenbox {

// The four things a bpffs can delegate, each a 64-bit mask over one kernel enum.
enum class DelegateKind { kCmds = 0, kMaps = 1, kProgs = 2, kAttachs = 3 };
inline constexpr DelegateKind kAllDelegateKinds[] = {DelegateKind::kCmds, DelegateKind::kMaps,
                                                     DelegateKind::kProgs, DelegateKind::kAttachs};

// "delegate_cmds", ...: the bpffs option, as the kernel and mountinfo spell it.
const char* OptionName(DelegateKind kind);
// "command", "map type", "program type", "attach type": for messages.
const char* ItemNoun(DelegateKind kind);
// The prefix the kernel strips from its BTF enum names: "BPF_", "BPF_MAP_TYPE_", ...
const char* KernelEnumPrefix(DelegateKind kind);
// The kernel enum's name in BTF: "bpf_cmd", "bpf_map_type", ...
const char* KernelEnumName(DelegateKind kind);

// How many values of the enum this build knows (the uapi __MAX_BPF_* it was compiled with).
int KnownValueCount(DelegateKind kind);

// The canonical lower-case name of `value` ("map_create", "hash", "xdp", "cgroup_inet_ingress"),
// or nullptr when this build has none. Map, program and attach names are libbpf's; command
// names come from the uapi enum bpf_cmd.
const char* CanonicalName(DelegateKind kind, int value);

// The value for `name`, matched case-insensitively against the canonical names and the kernel's
// aliases (prog_run for prog_test_run). nullopt when this build does not know it.
std::optional<int> LookupName(DelegateKind kind, absl::string_view name);

// The known name closest to `name` by edit distance, when one is close enough to be a likely
// typo; empty otherwise.
std::string NearestName(DelegateKind kind, absl::string_view name);

// The value the running kernel's BTF (/sys/kernel/btf/vmlinux) gives `name`, when this build does
// not know it. Lets an error tell "a name from a newer kernel" apart from a typo.
std::optional<int> KernelOnlyValue(DelegateKind kind, absl::string_view name);

}  // namespace tokenbox

#endif  // TOKENBOX_TOKEN_BPF_NAMES_H_
