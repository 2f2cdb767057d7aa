#ifndef TOKENBOX_TOKEN_DELEGATION_POLICY_H_
#define TOKENBOX_TOKEN_DELEGATION_POLICY_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "token/bpf_names.h"

namespace tokenbox {

// One delegate_* option: a mask over the kind's enum (bit N = value N), or `any`.
struct DelegateMask {
  uint64_t bits = 0;
  bool any = false;  // Given as `any`: bits is then all ones, as the kernel stores it.

  bool Allows(int value) const { return value >= 0 && value < 64 && ((bits >> value) & 1); }
  bool empty() const { return bits == 0; }
  friend bool operator==(const DelegateMask& a, const DelegateMask& b) {
    return a.bits == b.bits && a.any == b.any;
  }
};

// What a delegated bpffs lets a token holder do: commands, map types, program types and attach
// types. A value type; the same policy results whatever the spelling it was parsed from.
struct DelegationPolicy {
  DelegateMask cmds, maps, progs, attachs;

  DelegateMask& operator[](DelegateKind kind);
  const DelegateMask& operator[](DelegateKind kind) const;
  bool empty() const { return cmds.empty() && maps.empty() && progs.empty() && attachs.empty(); }
  friend bool operator==(const DelegationPolicy& a, const DelegationPolicy& b) {
    return a.cmds == b.cmds && a.maps == b.maps && a.progs == b.progs && a.attachs == b.attachs;
  }
  friend bool operator!=(const DelegationPolicy& a, const DelegationPolicy& b) { return !(a == b); }
};

// Parses one delegate_* value in the kernel's syntax: items separated by ':' (or ','), each a
// name without its enum prefix in any case (`map_create`, `HASH`), a mask as a decimal or 0x
// number, or `any` alone. An empty string delegates nothing. Refused, with one message that names
// the option and the item (and the nearest valid name for a typo): unknown names, names this
// build does not know but the kernel does, empty items, repeated names or bits, bits beyond the
// enum, numbers with a leading 0 (the kernel would read them as octal), and `any` with others.
absl::StatusOr<DelegateMask> ParseDelegateMask(DelegateKind kind, absl::string_view text);

// Parses all four options; nothing is returned unless all four are valid.
absl::StatusOr<DelegationPolicy> ParseDelegationPolicy(absl::string_view cmds,
                                                       absl::string_view maps,
                                                       absl::string_view progs,
                                                       absl::string_view attachs);

// The canonical spelling: `any`, or the names of the set bits in enum order joined by ':', with
// any bit this build cannot name as one trailing 0x number; "" for an empty mask.
// ParseDelegateMask(kind, FormatDelegateMask(kind, m)) == m for every parsed mask.
std::string FormatDelegateMask(DelegateKind kind, const DelegateMask& mask);

// "delegate_cmds=map_create:prog_load,delegate_maps=hash,...", the options mountinfo shows,
// omitting empty ones.
std::string FormatDelegationPolicy(const DelegationPolicy& policy);

}  // namespace tokenbox

#endif  // TOKENBOX_TOKEN_DELEGATION_POLICY_H_
