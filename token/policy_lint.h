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

// What programs of a type attach to, beyond the sandbox's own sockets and maps.
enum class ProgramReach {
  // A network namespace or its devices (XDP, tc, LWT, netfilter, flow dissector, sk_lookup):
  // the host's, unless the sandbox has a network namespace of its own.
  kNetworkNamespace,
  // A cgroup and every process in it (cgroup_*, sock_ops): the host's, unless the sandbox's
  // cgroup view is its own.
  kCgroup,
  // The whole machine (kprobes, tracepoints, perf events, fentry/fexit, LSM, struct_ops): no
  // namespace confines them; they load with CAP_PERFMON.
  kWholeMachine,
};

// The program types `policy` delegates (`any` included) that reach `reach`, by name.
std::vector<std::string> DelegatedProgramsReaching(const DelegationPolicy& policy,
                                                   ProgramReach reach);

// In words, what the delegated program types attach to beyond the sandbox's own sockets and
// maps, and what tokenbox requires of the sandbox for each: one sentence per ProgramReach.
std::vector<std::string> DescribeReach(const DelegationPolicy& policy);

// "a, b, c" for a few names; "a, b, c and N more" for many.
std::string ShortListOfNames(const std::vector<std::string>& names);

// Warnings a user wants before launch: delegations that will not work as written, given the
// capabilities the sandbox keeps. With `any` program or map types and CAP_NET_ADMIN or
// CAP_PERFMON not kept, a warning names the types among them that will fail.
std::vector<std::string> Lint(const DelegationPolicy& policy, CapabilitySet kept_caps);

}  // namespace tokenbox

#endif  // TOKENBOX_TOKEN_POLICY_LINT_H_
