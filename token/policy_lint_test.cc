#include "token/policy_lint.h"

#include <linux/capability.h>

#include <string>
#include <vector>

#include "tests/test_support.h"

namespace tokenbox {
namespace {

DelegationPolicy Policy(const char* cmds, const char* maps, const char* progs, const char* attachs) {
  auto policy = ParseDelegationPolicy(cmds, maps, progs, attachs);
  REQUIRE(policy.ok());
  return *policy;
}

bool AnyContains(const std::vector<std::string>& warnings, const std::string& needle) {
  for (const std::string& w : warnings) {
    if (w.find(needle) != std::string::npos) return true;
  }
  return false;
}

const CapabilitySet kBpfOnly = CapabilitySet::Of({CAP_BPF});

TEST_CASE("RequiredCapabilities: CAP_BPF always, NET_ADMIN for xdp and sockmap, PERFMON for tracing") {
  CHECK(RequiredCapabilities(Policy("", "", "", "")) == kBpfOnly);
  CHECK(RequiredCapabilities(Policy("map_create", "hash:array", "", "")) == kBpfOnly);
  CHECK(RequiredCapabilities(Policy("prog_load", "", "socket_filter:cgroup_skb", "any")) == kBpfOnly);
  CHECK(RequiredCapabilities(Policy("prog_load", "", "xdp", "any")) ==
        CapabilitySet::Of({CAP_BPF, CAP_NET_ADMIN}));
  CHECK(RequiredCapabilities(Policy("map_create", "sockmap", "", "")) ==
        CapabilitySet::Of({CAP_BPF, CAP_NET_ADMIN}));
  CHECK(RequiredCapabilities(Policy("prog_load", "", "kprobe", "any")) ==
        CapabilitySet::Of({CAP_BPF, CAP_PERFMON}));
  CHECK(RequiredCapabilities(Policy("any", "any", "any", "any")) ==
        CapabilitySet::Of({CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON}));
}

TEST_CASE("RequiredCapabilities is CAP_BPF alone when no program or map type is delegated") {
  CHECK(RequiredCapabilities(DelegationPolicy()) == kBpfOnly);
  CHECK(RequiredCapabilities(Policy("btf_load", "", "", "")) == kBpfOnly);
  CHECK(RequiredCapabilities(Policy("", "", "", "any")) == kBpfOnly);
}

TEST_CASE("Lint warns that XDP needs CAP_NET_ADMIN when only CAP_BPF is kept") {
  auto warnings = Lint(Policy("prog_load:btf_load", "", "xdp:socket_filter", "any"), kBpfOnly);
  CHECK(AnyContains(warnings, "program types xdp are delegated, but loading them needs "
                              "CAP_NET_ADMIN"));
  auto kept = Lint(Policy("prog_load:btf_load", "", "xdp:socket_filter", "any"),
                   CapabilitySet::Of({CAP_BPF, CAP_NET_ADMIN}));
  CHECK_FALSE(AnyContains(kept, "CAP_NET_ADMIN"));
}

TEST_CASE("Lint warns that 'any' program types include ones needing NET_ADMIN and PERFMON") {
  const DelegationPolicy any_progs = Policy("prog_load:btf_load", "", "any", "any");
  auto bpf_only = Lint(any_progs, kBpfOnly);
  CHECK(AnyContains(bpf_only, "every program type is delegated ('any'), but the ones that need "
                              "CAP_NET_ADMIN (sched_cls, sched_act, xdp and "));
  CHECK(AnyContains(bpf_only, "every program type is delegated ('any'), but the ones that need "
                              "CAP_PERFMON (kprobe, tracepoint, perf_event and "));
  CHECK(AnyContains(bpf_only, "--keep-caps=net_admin if it loads them"));
  CHECK(AnyContains(bpf_only, "--keep-caps=perfmon if it loads them"));
  // `any` is not a list of named types: the wording for named types must not be used for it.
  CHECK_FALSE(AnyContains(bpf_only, "are delegated, but loading them needs"));
  CHECK(bpf_only.size() == 2);

  auto with_net_admin = Lint(any_progs, CapabilitySet::Of({CAP_BPF, CAP_NET_ADMIN}));
  CHECK_FALSE(AnyContains(with_net_admin, "CAP_NET_ADMIN"));
  CHECK(AnyContains(with_net_admin, "CAP_PERFMON"));

  auto with_perfmon = Lint(any_progs, CapabilitySet::Of({CAP_BPF, CAP_PERFMON}));
  CHECK(AnyContains(with_perfmon, "CAP_NET_ADMIN"));
  CHECK_FALSE(AnyContains(with_perfmon, "CAP_PERFMON"));

  CHECK(Lint(any_progs, CapabilitySet::Of({CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON})).empty());
}

TEST_CASE("Lint warns that 'any' map types include ones needing CAP_NET_ADMIN") {
  const DelegationPolicy any_maps = Policy("map_create", "any", "", "");
  auto bpf_only = Lint(any_maps, kBpfOnly);
  REQUIRE(bpf_only.size() == 1);
  CHECK(bpf_only[0] ==
        "every map type is delegated ('any'), but the ones that need CAP_NET_ADMIN (sockmap, "
        "sockhash, devmap and 2 more) cannot be created, because the sandbox does not keep it "
        "(add --keep-caps=net_admin if it creates them)");
  CHECK(Lint(any_maps, CapabilitySet::Of({CAP_BPF, CAP_NET_ADMIN})).empty());
  // CAP_PERFMON has no say over map types.
  CHECK(Lint(any_maps, CapabilitySet::Of({CAP_BPF, CAP_PERFMON})).size() == 1);
}

TEST_CASE("All four as 'any' give no warnings once CAP_NET_ADMIN and CAP_PERFMON are kept") {
  CHECK(Lint(Policy("any", "any", "any", "any"),
             CapabilitySet::Of({CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON}))
            .empty());
  CHECK(Lint(Policy("any", "any", "any", "any"), kBpfOnly).size() == 3);
}

TEST_CASE("Lint warns about prog_load without btf_load") {
  CHECK(AnyContains(Lint(Policy("prog_load", "", "socket_filter", "any"), kBpfOnly),
                    "without btf_load"));
  CHECK_FALSE(AnyContains(Lint(Policy("prog_load:btf_load", "", "socket_filter", "any"), kBpfOnly),
                          "without btf_load"));
}

TEST_CASE("Lint warns when attach type 0 is not covered") {
  CHECK(AnyContains(Lint(Policy("prog_load:btf_load", "", "socket_filter", "cgroup_inet_egress"),
                         kBpfOnly),
                    "attach type 0 (cgroup_inet_ingress) is not delegated"));
  CHECK_FALSE(AnyContains(Lint(Policy("prog_load:btf_load", "", "socket_filter", "cgroup_inet_ingress"),
                               kBpfOnly),
                          "attach type 0"));
}

TEST_CASE("Lint warns that libbpf's probe needs socket_filter") {
  CHECK(AnyContains(Lint(Policy("prog_load:btf_load", "", "xdp", "any"), kBpfOnly),
                    "socket_filter is not delegated"));
}

TEST_CASE("Lint warns about types delegated without their command, and commands without types") {
  CHECK(AnyContains(Lint(Policy("prog_load", "hash", "socket_filter", "any"), kBpfOnly),
                    "without the map_create command"));
  CHECK(AnyContains(Lint(Policy("map_create", "", "xdp", ""), kBpfOnly),
                    "without the prog_load command"));
  CHECK(AnyContains(Lint(Policy("map_create", "", "", ""), kBpfOnly),
                    "map_create is delegated but no map type is"));
  CHECK(AnyContains(Lint(Policy("", "", "", ""), kBpfOnly), "nothing is delegated"));
}

TEST_CASE("A complete, consistent policy has no warnings") {
  auto warnings = Lint(Policy("map_create:prog_load:btf_load", "hash:array", "socket_filter", "any"),
                       kBpfOnly);
  for (const auto& w : warnings) MESSAGE(w);
  CHECK(warnings.empty());
}

}  // namespace
}  // namespace tokenbox
