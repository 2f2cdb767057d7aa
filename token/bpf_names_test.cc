#include "token/bpf_names.h"

#include <bpf/btf.h>

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

TEST_CASE("Every name this build knows is the kernel's own name for the same value") {
  // The kernel parses delegate options against the enum names in its BTF; a name of ours that
  // differs would be refused by fsconfig, and a value that differs would delegate the wrong bit.
  btf* vmlinux = btf__load_vmlinux_btf();
  REQUIRE_MESSAGE(vmlinux != nullptr, "this kernel has no /sys/kernel/btf/vmlinux");
  int checked = 0;
  for (DelegateKind kind : kAllDelegateKinds) {
    int enum_id = btf__find_by_name_kind(vmlinux, KernelEnumName(kind), BTF_KIND_ENUM);
    REQUIRE(enum_id > 0);
    const btf_type* type = btf__type_by_id(vmlinux, enum_id);
    const struct btf_enum* values = btf_enum(type);
    for (int value = 0; value < KnownValueCount(kind); ++value) {
      const char* ours = CanonicalName(kind, value);
      if (ours == nullptr) continue;
      std::string wanted = std::string(KernelEnumPrefix(kind)) + ours;
      bool found = false;
      for (int i = 0; i < btf_vlen(type); ++i) {
        if (absl::EqualsIgnoreCase(btf__name_by_offset(vmlinux, values[i].name_off), wanted)) {
          INFO(OptionName(kind), " ", ours);
          CHECK(static_cast<int>(values[i].val) == value);
          found = true;
        }
      }
      INFO(OptionName(kind), " ", ours, " is missing from the kernel's ", KernelEnumName(kind));
      CHECK(found);
      ++checked;
    }
  }
  btf__free(vmlinux);
  CHECK(checked > 150);
}

TEST_CASE("Names resolve case-insensitively, aliases included") {
  CHECK(LookupName(DelegateKind::kCmds, "map_create") == 0);
  CHECK(LookupName(DelegateKind::kCmds, "MAP_CREATE") == 0);
  CHECK(LookupName(DelegateKind::kCmds, "prog_run") == LookupName(DelegateKind::kCmds, "prog_test_run"));
  CHECK(LookupName(DelegateKind::kMaps, "HASH") == 1);
  CHECK(LookupName(DelegateKind::kProgs, "xdp") == 6);
  CHECK(LookupName(DelegateKind::kAttachs, "cgroup_inet_ingress") == 0);
  CHECK_FALSE(LookupName(DelegateKind::kProgs, "xpd").has_value());
  CHECK_FALSE(LookupName(DelegateKind::kProgs, "").has_value());
}

TEST_CASE("NearestName suggests a close name and nothing for a far one") {
  CHECK(NearestName(DelegateKind::kProgs, "xpd") == "xdp");
  CHECK(NearestName(DelegateKind::kMaps, "hahs") == "hash");
  CHECK(NearestName(DelegateKind::kCmds, "map_craete") == "map_create");
  CHECK(NearestName(DelegateKind::kMaps, "completely_unrelated_words") == "");
}

TEST_CASE("KernelOnlyValue finds names of the running kernel that this build lacks") {
  CHECK_FALSE(KernelOnlyValue(DelegateKind::kCmds, "tokenbox_never_a_command").has_value());
  // Linux 6.17 added BPF_PROG_STREAM_READ_BY_FD (37) after the 6.12 headers this builds with.
  if (KnownValueCount(DelegateKind::kCmds) <= 37) {
    std::optional<int> value = KernelOnlyValue(DelegateKind::kCmds, "prog_stream_read_by_fd");
    if (value.has_value()) CHECK(*value == 37);
  }
}

}  // namespace
}  // namespace tokenbox
