#include "token/policy_lint.h"

#include <linux/bpf.h>
#include <linux/capability.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tokenbox {
namespace {

// kernel/bpf/syscall.c, is_net_admin_prog_type().
constexpr int kNetAdminProgs[] = {
    BPF_PROG_TYPE_SCHED_CLS,     BPF_PROG_TYPE_SCHED_ACT,         BPF_PROG_TYPE_XDP,
    BPF_PROG_TYPE_LWT_IN,        BPF_PROG_TYPE_LWT_OUT,           BPF_PROG_TYPE_LWT_XMIT,
    BPF_PROG_TYPE_LWT_SEG6LOCAL, BPF_PROG_TYPE_SK_SKB,            BPF_PROG_TYPE_SK_MSG,
    BPF_PROG_TYPE_LIRC_MODE2,    BPF_PROG_TYPE_FLOW_DISSECTOR,    BPF_PROG_TYPE_CGROUP_DEVICE,
    BPF_PROG_TYPE_CGROUP_SOCK,   BPF_PROG_TYPE_CGROUP_SOCK_ADDR,  BPF_PROG_TYPE_CGROUP_SOCKOPT,
    BPF_PROG_TYPE_CGROUP_SYSCTL, BPF_PROG_TYPE_SOCK_OPS,          BPF_PROG_TYPE_EXT,
    BPF_PROG_TYPE_NETFILTER,
};

// kernel/bpf/syscall.c, is_perfmon_prog_type().
constexpr int kPerfmonProgs[] = {
    BPF_PROG_TYPE_KPROBE,         BPF_PROG_TYPE_TRACEPOINT,
    BPF_PROG_TYPE_PERF_EVENT,     BPF_PROG_TYPE_RAW_TRACEPOINT,
    BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, BPF_PROG_TYPE_TRACING,
    BPF_PROG_TYPE_LSM,            BPF_PROG_TYPE_STRUCT_OPS,
    BPF_PROG_TYPE_EXT,
};

// kernel/bpf/syscall.c, map_create(): the map types checked against CAP_NET_ADMIN.
constexpr int kNetAdminMaps[] = {
    BPF_MAP_TYPE_SOCKMAP, BPF_MAP_TYPE_SOCKHASH, BPF_MAP_TYPE_DEVMAP,
    BPF_MAP_TYPE_DEVMAP_HASH, BPF_MAP_TYPE_XSKMAP,
};

constexpr int kNetworkNamespaceProgs[] = {
    BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_SCHED_ACT,      BPF_PROG_TYPE_XDP,
    BPF_PROG_TYPE_LWT_IN,    BPF_PROG_TYPE_LWT_OUT,        BPF_PROG_TYPE_LWT_XMIT,
    BPF_PROG_TYPE_LWT_SEG6LOCAL, BPF_PROG_TYPE_FLOW_DISSECTOR, BPF_PROG_TYPE_SK_LOOKUP,
    BPF_PROG_TYPE_NETFILTER,
};

constexpr int kCgroupProgs[] = {
    BPF_PROG_TYPE_CGROUP_SKB,     BPF_PROG_TYPE_CGROUP_SOCK,    BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
    BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_PROG_TYPE_CGROUP_SYSCTL,  BPF_PROG_TYPE_CGROUP_DEVICE,
    BPF_PROG_TYPE_SOCK_OPS,
};

// kPerfmonProgs but for EXT, which replaces functions of programs the sandbox holds.
constexpr int kWholeMachineProgs[] = {
    BPF_PROG_TYPE_KPROBE,         BPF_PROG_TYPE_TRACEPOINT,
    BPF_PROG_TYPE_PERF_EVENT,     BPF_PROG_TYPE_RAW_TRACEPOINT,
    BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, BPF_PROG_TYPE_TRACING,
    BPF_PROG_TYPE_LSM,            BPF_PROG_TYPE_STRUCT_OPS,
};

// The delegated values of `mask` that appear in `values`, by name.
std::vector<std::string> DelegatedAmong(DelegateKind kind, const DelegateMask& mask,
                                        const int* values, size_t count) {
  std::vector<std::string> names;
  for (size_t i = 0; i < count; ++i) {
    if (mask.Allows(values[i])) names.emplace_back(CanonicalName(kind, values[i]));
  }
  return names;
}

template <size_t N>
std::vector<std::string> DelegatedAmong(DelegateKind kind, const DelegateMask& mask,
                                        const int (&values)[N]) {
  return DelegatedAmong(kind, mask, values, N);
}

}  // namespace

std::string ShortListOfNames(const std::vector<std::string>& names) {
  return names.size() <= 4 ? absl::StrJoin(names, ", ")
                           : absl::StrCat(absl::StrJoin(names.begin(), names.begin() + 3, ", "),
                                          " and ", names.size() - 3, " more");
}

CapabilitySet RequiredCapabilities(const DelegationPolicy& policy) {
  // CAP_BPF even for an empty policy: BPF_TOKEN_CREATE checks it before it looks at the masks,
  // so without it the failure would be EPERM rather than the ENOENT that names the real problem.
  CapabilitySet caps = CapabilitySet::Of({CAP_BPF});
  if (!DelegatedAmong(DelegateKind::kProgs, policy.progs, kNetAdminProgs).empty() ||
      !DelegatedAmong(DelegateKind::kMaps, policy.maps, kNetAdminMaps).empty()) {
    caps = caps.With(CAP_NET_ADMIN);
  }
  if (!DelegatedAmong(DelegateKind::kProgs, policy.progs, kPerfmonProgs).empty()) {
    caps = caps.With(CAP_PERFMON);
  }
  return caps;
}

std::vector<std::string> DelegatedProgramsReaching(const DelegationPolicy& policy,
                                                   ProgramReach reach) {
  switch (reach) {
    case ProgramReach::kNetworkNamespace:
      return DelegatedAmong(DelegateKind::kProgs, policy.progs, kNetworkNamespaceProgs);
    case ProgramReach::kCgroup:
      return DelegatedAmong(DelegateKind::kProgs, policy.progs, kCgroupProgs);
    case ProgramReach::kWholeMachine:
      return DelegatedAmong(DelegateKind::kProgs, policy.progs, kWholeMachineProgs);
  }
  return {};
}

std::vector<std::string> DescribeReach(const DelegationPolicy& policy) {
  std::vector<std::string> sentences;
  if (auto types = DelegatedProgramsReaching(policy, ProgramReach::kNetworkNamespace);
      !types.empty()) {
    sentences.push_back(absl::StrCat(
        ShortListOfNames(types), " attach to a network namespace and its devices: the "
        "sandbox's own, which they need (tokenbox refuses them with --share-net)"));
  }
  if (auto types = DelegatedProgramsReaching(policy, ProgramReach::kCgroup); !types.empty()) {
    sentences.push_back(absl::StrCat(
        ShortListOfNames(types), " attach to cgroups and every process in them: the sandbox's "
        "cgroup namespace must be its own (tokenbox refuses them with --share-cgroup)"));
  }
  if (auto types = DelegatedProgramsReaching(policy, ProgramReach::kWholeMachine);
      !types.empty()) {
    sentences.push_back(absl::StrCat(
        ShortListOfNames(types), " trace and change the whole machine, which no namespace "
        "confines: with CAP_PERFMON kept they load, so tokenbox then needs --allow-host-tracing"));
  }
  return sentences;
}

std::vector<std::string> Lint(const DelegationPolicy& policy, CapabilitySet kept_caps) {
  std::vector<std::string> warnings;
  if (policy.empty()) {
    warnings.push_back(
        "nothing is delegated: the kernel refuses to create a token (ENOENT) from this bpffs");
    return warnings;
  }
  const bool kept_net_admin = kept_caps.Has(CAP_NET_ADMIN);
  const bool kept_perfmon = kept_caps.Has(CAP_PERFMON);
  auto net_progs = DelegatedAmong(DelegateKind::kProgs, policy.progs, kNetAdminProgs);
  auto net_maps = DelegatedAmong(DelegateKind::kMaps, policy.maps, kNetAdminMaps);
  auto perf_progs = DelegatedAmong(DelegateKind::kProgs, policy.progs, kPerfmonProgs);
  // With `any`, the sandbox may well never load a networking or tracing program, so these
  // warnings say what will fail instead of calling the delegation a mistake.
  if (!kept_net_admin && policy.progs.any) {
    warnings.push_back(absl::StrCat(
        "every program type is delegated ('any'), but the ones that need CAP_NET_ADMIN (",
        ShortListOfNames(net_progs), ") will fail to load, because the sandbox does not keep it (add "
        "--keep-caps=net_admin if it loads them)"));
  } else if (!kept_net_admin && !net_progs.empty()) {
    warnings.push_back(absl::StrCat("program types ", ShortListOfNames(net_progs),
                                    " are delegated, but loading them needs CAP_NET_ADMIN, which "
                                    "the sandbox does not keep (add --keep-caps=net_admin)"));
  }
  if (!kept_net_admin && policy.maps.any) {
    warnings.push_back(absl::StrCat(
        "every map type is delegated ('any'), but the ones that need CAP_NET_ADMIN (",
        ShortListOfNames(net_maps), ") cannot be created, because the sandbox does not keep it (add "
        "--keep-caps=net_admin if it creates them)"));
  } else if (!kept_net_admin && !net_maps.empty()) {
    warnings.push_back(absl::StrCat("map types ", ShortListOfNames(net_maps),
                                    " are delegated, but creating them needs CAP_NET_ADMIN, which "
                                    "the sandbox does not keep (add --keep-caps=net_admin)"));
  }
  if (!kept_perfmon && policy.progs.any) {
    warnings.push_back(absl::StrCat(
        "every program type is delegated ('any'), but the ones that need CAP_PERFMON (",
        ShortListOfNames(perf_progs), ") will fail to load, because the sandbox does not keep it (add "
        "--keep-caps=perfmon if it loads them)"));
  } else if (!kept_perfmon && !perf_progs.empty()) {
    warnings.push_back(absl::StrCat("program types ", ShortListOfNames(perf_progs),
                                    " are delegated, but loading them needs CAP_PERFMON, which "
                                    "the sandbox does not keep (add --keep-caps=perfmon)"));
  }
  if (!kept_caps.Has(CAP_BPF)) {
    warnings.push_back("CAP_BPF is not kept: the token cannot be created or used");
  }
  const bool prog_load = policy.cmds.Allows(BPF_PROG_LOAD);
  if (prog_load && !policy.cmds.Allows(BPF_BTF_LOAD)) {
    warnings.push_back(
        "prog_load is delegated without btf_load: libbpf then loads programs without their BTF "
        "(no CO-RE, no BTF-defined maps' types)");
  }
  if (prog_load && !policy.attachs.Allows(BPF_CGROUP_INET_INGRESS)) {
    warnings.push_back(
        "attach type 0 (cgroup_inet_ingress) is not delegated: the kernel checks the attach type "
        "even when a program gives none, so such loads are refused; delegate 'any' attach types "
        "or cgroup_inet_ingress");
  }
  if (prog_load && !policy.progs.Allows(BPF_PROG_TYPE_SOCKET_FILTER)) {
    warnings.push_back(
        "socket_filter is not delegated: libbpf (up to 1.7) probes the token by loading a trivial "
        "socket_filter program, and bpf_object loading then fails with \"Couldn't load trivial "
        "BPF program\"");
  }
  if (!policy.maps.empty() && !policy.cmds.Allows(BPF_MAP_CREATE)) {
    warnings.push_back("map types are delegated without the map_create command: none can be "
                       "created through the token");
  }
  if ((!policy.progs.empty() || !policy.attachs.empty()) && !prog_load) {
    warnings.push_back("program or attach types are delegated without the prog_load command: no "
                       "program can be loaded through the token");
  }
  if (policy.cmds.Allows(BPF_MAP_CREATE) && policy.maps.empty()) {
    warnings.push_back("map_create is delegated but no map type is: every map_create through the "
                       "token falls back to host privileges and fails");
  }
  if (prog_load && policy.progs.empty()) {
    warnings.push_back("prog_load is delegated but no program type is: every prog_load through "
                       "the token falls back to host privileges and fails");
  }
  return warnings;
}

}  // namespace tokenbox
