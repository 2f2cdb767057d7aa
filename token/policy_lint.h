#ifndef TOKENBOX_TOKEN_POLICY_LINT_H_
#define TOKENBOX_TOKEN_POLICY_LINT_H_

#include <string>
#include <vector>

#include "token/capability_set.h"
#include "token/delegation_policy.h"

namespace tokenbox {

// The capabilities the sandboxed process must hold in its own user namespace for everything the
// policy delegates to work: CAP_BPF always, even for an empty policy; CAP_NET_ADMIN for
// networking program types (XDP, tc, LWT, sk_skb/msg, flow dissector, cgroup sock*, sock_ops,
// netfilter, ...) and sockmap-like map types; CAP_PERFMON for tracing program types. Mirrors the
// kernel's checks in kernel/bpf/syscall.c (map_create, bpf_prog_load), where a token turns
// capable(cap) into ns_capable(token's user namespace, cap).
CapabilitySet RequiredCapabilities(const DelegationPolicy& policy);

// Warnings a user wants before launch: delegations that will not work as written, given the
// capabilities the sandbox keeps. With `any` program or map types and CAP_NET_ADMIN or
// CAP_PERFMON not kept, a warning names the types among them that will fail.
std::vector<std::string> Lint(const DelegationPolicy& policy, CapabilitySet kept_caps);

}  // namespace tokenbox

#endif  // TOKENBOX_TOKEN_POLICY_LINT_H_
