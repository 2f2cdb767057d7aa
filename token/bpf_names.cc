#include "token/bpf_names.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <algorithm>
#include <map>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tokenbox {
namespace {

struct CommandName {
  bpf_cmd value;
  const char* name;
};

// enum bpf_cmd from the uapi header, in enum order; the kernel's spelling with "BPF_" removed.
// libbpf has no string table for commands, so this is the one place they are named.
constexpr CommandName kCommandNames[] = {
    {BPF_MAP_CREATE, "map_create"},
    {BPF_MAP_LOOKUP_ELEM, "map_lookup_elem"},
    {BPF_MAP_UPDATE_ELEM, "map_update_elem"},
    {BPF_MAP_DELETE_ELEM, "map_delete_elem"},
    {BPF_MAP_GET_NEXT_KEY, "map_get_next_key"},
    {BPF_PROG_LOAD, "prog_load"},
    {BPF_OBJ_PIN, "obj_pin"},
    {BPF_OBJ_GET, "obj_get"},
    {BPF_PROG_ATTACH, "prog_attach"},
    {BPF_PROG_DETACH, "prog_detach"},
    {BPF_PROG_TEST_RUN, "prog_test_run"},
    {BPF_PROG_GET_NEXT_ID, "prog_get_next_id"},
    {BPF_MAP_GET_NEXT_ID, "map_get_next_id"},
    {BPF_PROG_GET_FD_BY_ID, "prog_get_fd_by_id"},
    {BPF_MAP_GET_FD_BY_ID, "map_get_fd_by_id"},
    {BPF_OBJ_GET_INFO_BY_FD, "obj_get_info_by_fd"},
    {BPF_PROG_QUERY, "prog_query"},
    {BPF_RAW_TRACEPOINT_OPEN, "raw_tracepoint_open"},
    {BPF_BTF_LOAD, "btf_load"},
    {BPF_BTF_GET_FD_BY_ID, "btf_get_fd_by_id"},
    {BPF_TASK_FD_QUERY, "task_fd_query"},
    {BPF_MAP_LOOKUP_AND_DELETE_ELEM, "map_lookup_and_delete_elem"},
    {BPF_MAP_FREEZE, "map_freeze"},
    {BPF_BTF_GET_NEXT_ID, "btf_get_next_id"},
    {BPF_MAP_LOOKUP_BATCH, "map_lookup_batch"},
    {BPF_MAP_LOOKUP_AND_DELETE_BATCH, "map_lookup_and_delete_batch"},
    {BPF_MAP_UPDATE_BATCH, "map_update_batch"},
    {BPF_MAP_DELETE_BATCH, "map_delete_batch"},
    {BPF_LINK_CREATE, "link_create"},
    {BPF_LINK_UPDATE, "link_update"},
    {BPF_LINK_GET_FD_BY_ID, "link_get_fd_by_id"},
    {BPF_LINK_GET_NEXT_ID, "link_get_next_id"},
    {BPF_ENABLE_STATS, "enable_stats"},
    {BPF_ITER_CREATE, "iter_create"},
    {BPF_LINK_DETACH, "link_detach"},
    {BPF_PROG_BIND_MAP, "prog_bind_map"},
    {BPF_TOKEN_CREATE, "token_create"},
};
static_assert(sizeof(kCommandNames) / sizeof(kCommandNames[0]) == __MAX_BPF_CMD,
              "enum bpf_cmd grew: name the new commands above");

// Second spellings the kernel's BTF also carries for the same value.
struct Alias {
  DelegateKind kind;
  const char* name;
  int value;
};
constexpr Alias kAliases[] = {
    {DelegateKind::kCmds, "prog_run", BPF_PROG_RUN},
    {DelegateKind::kMaps, "cgroup_storage_deprecated", BPF_MAP_TYPE_CGROUP_STORAGE},
    {DelegateKind::kMaps, "percpu_cgroup_storage_deprecated", BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE},
};

size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      bool same = absl::ascii_tolower(a[i - 1]) == absl::ascii_tolower(b[j - 1]);
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

const char* OptionName(DelegateKind kind) {
  switch (kind) {
    case DelegateKind::kCmds: return "delegate_cmds";
    case DelegateKind::kMaps: return "delegate_maps";
    case DelegateKind::kProgs: return "delegate_progs";
    case DelegateKind::kAttachs: return "delegate_attachs";
  }
  return "";
}

const char* ItemNoun(DelegateKind kind) {
  switch (kind) {
    case DelegateKind::kCmds: return "command";
    case DelegateKind::kMaps: return "map type";
    case DelegateKind::kProgs: return "program type";
    case DelegateKind::kAttachs: return "attach type";
  }
  return "";
}

const char* KernelEnumPrefix(DelegateKind kind) {
  switch (kind) {
    case DelegateKind::kCmds: return "BPF_";
    case DelegateKind::kMaps: return "BPF_MAP_TYPE_";
    case DelegateKind::kProgs: return "BPF_PROG_TYPE_";
    case DelegateKind::kAttachs: return "BPF_";
  }
  return "";
}

const char* KernelEnumName(DelegateKind kind) {
  switch (kind) {
    case DelegateKind::kCmds: return "bpf_cmd";
    case DelegateKind::kMaps: return "bpf_map_type";
    case DelegateKind::kProgs: return "bpf_prog_type";
    case DelegateKind::kAttachs: return "bpf_attach_type";
  }
  return "";
}

int KnownValueCount(DelegateKind kind) {
  switch (kind) {
    case DelegateKind::kCmds: return __MAX_BPF_CMD;
    case DelegateKind::kMaps: return __MAX_BPF_MAP_TYPE;
    case DelegateKind::kProgs: return __MAX_BPF_PROG_TYPE;
    case DelegateKind::kAttachs: return __MAX_BPF_ATTACH_TYPE;
  }
  return 0;
}

const char* CanonicalName(DelegateKind kind, int value) {
  if (value < 0 || value >= KnownValueCount(kind)) return nullptr;
  switch (kind) {
    case DelegateKind::kCmds: return kCommandNames[value].name;
    case DelegateKind::kMaps: return libbpf_bpf_map_type_str(static_cast<bpf_map_type>(value));
    case DelegateKind::kProgs: return libbpf_bpf_prog_type_str(static_cast<bpf_prog_type>(value));
    case DelegateKind::kAttachs:
      return libbpf_bpf_attach_type_str(static_cast<bpf_attach_type>(value));
  }
  return nullptr;
}

std::optional<int> LookupName(DelegateKind kind, absl::string_view name) {
  for (int value = 0; value < KnownValueCount(kind); ++value) {
    const char* known = CanonicalName(kind, value);
    if (known != nullptr && absl::EqualsIgnoreCase(known, name)) return value;
  }
  for (const Alias& alias : kAliases) {
    if (alias.kind == kind && absl::EqualsIgnoreCase(alias.name, name)) return alias.value;
  }
  return std::nullopt;
}

std::string NearestName(DelegateKind kind, absl::string_view name) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, name.size() / 3) + 1;
  for (int value = 0; value < KnownValueCount(kind); ++value) {
    const char* known = CanonicalName(kind, value);
    if (known == nullptr) continue;
    size_t distance = EditDistance(name, known);
    if (distance < best_distance) {
      best_distance = distance;
      best = known;
    }
  }
  return best;
}

std::optional<int> KernelOnlyValue(DelegateKind kind, absl::string_view name) {
  // The kernel's names, read once: /sys/kernel/btf/vmlinux is several MiB, too much to parse
  // for every unknown name a user or a fuzzer types. Keyed by kind and upper-case enumerator.
  static const auto* kernel_names = [] {
    auto* names = new std::map<std::pair<int, std::string>, int>();
    btf* vmlinux = btf__load_vmlinux_btf();
    if (vmlinux == nullptr) return names;
    for (DelegateKind k : kAllDelegateKinds) {
      int enum_id = btf__find_by_name_kind(vmlinux, KernelEnumName(k), BTF_KIND_ENUM);
      if (enum_id <= 0) continue;
      const btf_type* type = btf__type_by_id(vmlinux, enum_id);
      const struct btf_enum* values = btf_enum(type);
      for (int i = 0; i < btf_vlen(type); ++i) {
        const char* enumerator = btf__name_by_offset(vmlinux, values[i].name_off);
        if (enumerator == nullptr) continue;
        (*names)[{static_cast<int>(k), absl::AsciiStrToUpper(enumerator)}] =
            static_cast<int>(values[i].val);
      }
    }
    btf__free(vmlinux);
    return names;
  }();
  auto found = kernel_names->find(
      {static_cast<int>(kind), absl::AsciiStrToUpper(absl::StrCat(KernelEnumPrefix(kind), name))});
  if (found == kernel_names->end()) return std::nullopt;
  return found->second;
}

}  // namespace tokenbox
