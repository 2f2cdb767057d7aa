#include "token/capability_set.h"

#include <linux/capability.h>

#include "tests/test_support.h"

namespace tokenbox {
namespace {

TEST_CASE("Capability names parse with or without cap_, in any case, with , or :") {
  auto set = CapabilitySet::Parse("net_admin,CAP_PERFMON:Bpf");
  TB_REQUIRE_OK(set);
  CHECK(*set == CapabilitySet::Of({CAP_NET_ADMIN, CAP_PERFMON, CAP_BPF}));
  CHECK(set->ToString() == "cap_net_admin,cap_perfmon,cap_bpf");
  CHECK(CapabilitySet::Parse("")->empty());
}

TEST_CASE("Unknown, numeric and empty capability names are refused by name") {
  auto bad = CapabilitySet::Parse("net_admin,net_admn");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() ==
        "unknown capability 'net_admn' (names look like net_admin or cap_bpf)");
  CHECK_FALSE(CapabilitySet::Parse("12").ok());
  CHECK_FALSE(CapabilitySet::Parse("cap_").ok());
  CHECK_FALSE(CapabilitySet::Parse("bpf,,perfmon").ok());
}

TEST_CASE("Set algebra") {
  CapabilitySet a = CapabilitySet::Of({CAP_BPF, CAP_NET_ADMIN});
  CapabilitySet b = CapabilitySet::Of({CAP_BPF});
  CHECK(a.Contains(b));
  CHECK_FALSE(b.Contains(a));
  CHECK(a.Minus(b) == CapabilitySet::Of({CAP_NET_ADMIN}));
  CHECK(b.Union(CapabilitySet::Of({CAP_PERFMON})).Has(CAP_PERFMON));
}

}  // namespace
}  // namespace tokenbox
