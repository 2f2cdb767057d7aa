#ifndef TOKENBOX_SANDBOX_SERVICE_GRANT_SYNTAX_H_
#define TOKENBOX_SANDBOX_SERVICE_GRANT_SYNTAX_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "token/capability_set.h"
#include "token/delegation_policy.h"

namespace tokenbox {

// The words of a grant in tokenboxd's policy file (sandbox/service/grant_policy.h), apart from
// reading the file: a static tokenbox shows grants, but cannot look users and groups up.

// The delegate kind a policy line's key names ("cmds" -> kCmds), if it names one.
std::optional<DelegateKind> DelegateKindOfGrantKey(absl::string_view key);

// The key a policy line names `kind` by ("cmds").
absl::string_view GrantKeyOf(DelegateKind kind);

// What a grant gives, in a policy line's own syntax ("cmds=map_create maps=array caps=cap_perfmon
// tracing=host"; "-" for nothing), so that what is shown can be pasted into the file.
std::string FormatGrant(const DelegationPolicy& policy, const CapabilitySet& caps,
                        bool host_tracing);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_SERVICE_GRANT_SYNTAX_H_
