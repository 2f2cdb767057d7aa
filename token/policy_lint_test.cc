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
  CHECK(RequiredCapabilities(Policy("", "", "", "")).empty());
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

TEST_CASE("Lint warns that XDP needs CAP_NET_ADMIN when only CAP_BPF is kept") {
  auto warnings = Lint(Policy("prog_load:btf_load", "", "xdp:socket_filter", "any"), kBpfOnly);
  CHECK(AnyContains(warnings, "program types xdp are delegated, but loading them needs "
                              "CAP_NET_ADMIN"));
  auto kept = Lint(Policy("prog_load:btf_load", "", "xdp:socket_filter", "any"),
                   CapabilitySet::Of({CAP_BPF, CAP_NET_ADMIN}));
  CHECK_FALSE(AnyContains(kept, "CAP_NET_ADMIN"));
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
