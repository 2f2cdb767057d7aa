#include "token/delegation_policy.h"

#include <linux/bpf.h>

#include <string>

#include "tests/test_support.h"

namespace tokenbox {
namespace {

std::string ErrorOf(DelegateKind kind, absl::string_view text) {
  absl::StatusOr<DelegateMask> mask = ParseDelegateMask(kind, text);
  return mask.ok() ? "" : std::string(mask.status().message());
}

uint64_t Bit(int value) { return uint64_t{1} << value; }

TEST_CASE("Spellings of the same delegation parse to the same mask") {
  struct Case {
    DelegateKind kind;
    const char* text;
    uint64_t bits;
  };
  const Case cases[] = {
      {DelegateKind::kCmds, "map_create:prog_load", Bit(BPF_MAP_CREATE) | Bit(BPF_PROG_LOAD)},
      {DelegateKind::kCmds, "PROG_LOAD,Map_Create", Bit(BPF_MAP_CREATE) | Bit(BPF_PROG_LOAD)},
      {DelegateKind::kCmds, "0x21", Bit(BPF_MAP_CREATE) | Bit(BPF_PROG_LOAD)},
      {DelegateKind::kCmds, "33", Bit(BPF_MAP_CREATE) | Bit(BPF_PROG_LOAD)},
      {DelegateKind::kCmds, "map_create:0x20", Bit(BPF_MAP_CREATE) | Bit(BPF_PROG_LOAD)},
      {DelegateKind::kMaps, "hash:array", Bit(BPF_MAP_TYPE_HASH) | Bit(BPF_MAP_TYPE_ARRAY)},
      {DelegateKind::kMaps, "0X6", Bit(BPF_MAP_TYPE_HASH) | Bit(BPF_MAP_TYPE_ARRAY)},
      {DelegateKind::kProgs, "xdp", Bit(BPF_PROG_TYPE_XDP)},
      {DelegateKind::kAttachs, "cgroup_inet_ingress", Bit(BPF_CGROUP_INET_INGRESS)},
      {DelegateKind::kAttachs, "0", 0},
      {DelegateKind::kProgs, "", 0},
  };
  for (const Case& c : cases) {
    INFO(OptionName(c.kind), "=", c.text);
    absl::StatusOr<DelegateMask> mask = ParseDelegateMask(c.kind, c.text);
    TB_REQUIRE_OK(mask);
    CHECK(mask->bits == c.bits);
    CHECK_FALSE(mask->any);
  }
}

TEST_CASE("any delegates every value and is recorded as any") {
  for (const char* text : {"any", "ANY", "Any"}) {
    auto mask = ParseDelegateMask(DelegateKind::kProgs, text);
    TB_REQUIRE_OK(mask);
    CHECK(mask->any);
    CHECK(mask->bits == ~uint64_t{0});
    CHECK(mask->Allows(BPF_PROG_TYPE_XDP));
  }
}

TEST_CASE("Bad input gets one precise error naming the option and the item") {
  struct Case {
    DelegateKind kind;
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {DelegateKind::kProgs, "xpd", "delegate_progs: unknown program type 'xpd' (did you mean 'xdp'?)"},
      {DelegateKind::kMaps, "hahs", "delegate_maps: unknown map type 'hahs' (did you mean 'hash'?)"},
      {DelegateKind::kCmds, "frobnicate_everything",
       "delegate_cmds: unknown command 'frobnicate_everything'"},
      {DelegateKind::kMaps, "bpf_map_type_hash",
       "delegate_maps: unknown map type 'bpf_map_type_hash' (write it without the prefix: 'hash')"},
      {DelegateKind::kMaps, "hash::array", "delegate_maps: empty item in 'hash::array'"},
      {DelegateKind::kMaps, "hash:", "delegate_maps: empty item in 'hash:'"},
      {DelegateKind::kMaps, ":", "delegate_maps: empty item in ':'"},
      {DelegateKind::kMaps, "any:hash",
       "delegate_maps: 'any' already allows every map type and cannot be combined with other "
       "items in 'any:hash'"},
      {DelegateKind::kMaps, "hash:any",
       "delegate_maps: 'any' already allows every map type and cannot be combined with other "
       "items in 'hash:any'"},
      {DelegateKind::kMaps, "hash:HASH",
       "delegate_maps: 'HASH' repeats map type bit(s) 0x2 given earlier in 'hash:HASH'"},
      {DelegateKind::kMaps, "hash:0x2",
       "delegate_maps: '0x2' repeats map type bit(s) 0x2 given earlier in 'hash:0x2'"},
      {DelegateKind::kCmds, "0x8000000000000000",
       "delegate_cmds: number '0x8000000000000000' sets bits beyond the last command this build "
       "knows"},
      {DelegateKind::kCmds, "0x10000000000000000", "delegate_cmds: '0x10000000000000000' is not a valid number"},
      {DelegateKind::kCmds, "99999999999999999999999", "delegate_cmds: '99999999999999999999999' is not a valid number"},
      {DelegateKind::kCmds, "0x", "delegate_cmds: '0x' is not a valid number"},
      {DelegateKind::kCmds, "0xZZ", "delegate_cmds: '0xZZ' is not a valid number"},
      {DelegateKind::kCmds, "12abc", "delegate_cmds: '12abc' is not a valid number"},
      {DelegateKind::kCmds, "010", "delegate_cmds: number '010' has a leading 0, which the kernel "
                                   "reads as octal"},
      {DelegateKind::kProgs, "xdp ", "delegate_progs: unknown program type 'xdp '"},
      {DelegateKind::kProgs, "-1", "delegate_progs: unknown program type '-1'"},
  };
  for (const Case& c : cases) {
    INFO(OptionName(c.kind), "=", c.text);
    std::string error = ErrorOf(c.kind, c.text);
    CHECK(error.rfind(c.error, 0) == 0);
    if (error.rfind(c.error, 0) != 0) MESSAGE("got: " << error);
  }
}

TEST_CASE("A command this build does not know but the kernel does is named as such") {
  // Linux 6.17 added prog_stream_read_by_fd; this build's headers (6.12) stop before it.
  if (KernelOnlyValue(DelegateKind::kCmds, "prog_stream_read_by_fd").has_value() &&
      !LookupName(DelegateKind::kCmds, "prog_stream_read_by_fd").has_value()) {
    CHECK(ErrorOf(DelegateKind::kCmds, "prog_stream_read_by_fd") ==
          "delegate_cmds: command 'prog_stream_read_by_fd' is known to this kernel (37) but not "
          "to this build of tokenbox; rebuild against newer libbpf and uapi headers");
  } else {
    MESSAGE("the kernel and this build agree on every command; nothing to check");
  }
}

TEST_CASE("ParseDelegationPolicy applies nothing when any one option is bad") {
  auto policy = ParseDelegationPolicy("map_create:prog_load", "hash", "xpd", "any");
  REQUIRE_FALSE(policy.ok());
  CHECK(std::string(policy.status().message()).rfind("delegate_progs: unknown program type", 0) == 0);
  auto good = ParseDelegationPolicy("map_create:prog_load", "hash", "xdp", "any");
  TB_REQUIRE_OK(good);
  CHECK(good->cmds.bits == (Bit(BPF_MAP_CREATE) | Bit(BPF_PROG_LOAD)));
  CHECK(good->attachs.any);
}

TEST_CASE("Formatting is canonical: enum order, lower case, any; and parse(format(x)) == x") {
  auto policy = ParseDelegationPolicy("PROG_LOAD:0x1:btf_load", "array,HASH", "any", "");
  TB_REQUIRE_OK(policy);
  CHECK(FormatDelegateMask(DelegateKind::kCmds, policy->cmds) == "map_create:prog_load:btf_load");
  CHECK(FormatDelegateMask(DelegateKind::kMaps, policy->maps) == "hash:array");
  CHECK(FormatDelegateMask(DelegateKind::kProgs, policy->progs) == "any");
  CHECK(FormatDelegateMask(DelegateKind::kAttachs, policy->attachs) == "");
  CHECK(FormatDelegationPolicy(*policy) ==
        "delegate_cmds=map_create:prog_load:btf_load,delegate_maps=hash:array,delegate_progs=any");
  for (DelegateKind kind : kAllDelegateKinds) {
    std::string once = FormatDelegateMask(kind, (*policy)[kind]);
    auto reparsed = ParseDelegateMask(kind, once);
    TB_REQUIRE_OK(reparsed);
    CHECK(*reparsed == (*policy)[kind]);
    CHECK(FormatDelegateMask(kind, *reparsed) == once);
  }
}

TEST_CASE("Every single known value round-trips through its name") {
  for (DelegateKind kind : kAllDelegateKinds) {
    for (int value = 0; value < KnownValueCount(kind); ++value) {
      DelegateMask mask{uint64_t{1} << value, false};
      std::string text = FormatDelegateMask(kind, mask);
      INFO(OptionName(kind), " value ", value, " -> ", text);
      auto reparsed = ParseDelegateMask(kind, text);
      TB_CHECK_OK(reparsed);
      if (reparsed.ok()) CHECK(*reparsed == mask);
    }
  }
}

TEST_CASE("A bit this build cannot name is formatted as a trailing number") {
  DelegateMask mask{Bit(BPF_MAP_CREATE) | Bit(62), false};
  CHECK(FormatDelegateMask(DelegateKind::kCmds, mask) == "map_create:0x4000000000000000");
}

}  // namespace
}  // namespace tokenbox
