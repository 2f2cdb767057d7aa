#include "token/delegation_policy.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ns/errno_status.h"

namespace tokenbox {
namespace {

constexpr uint64_t kAllBits = ~uint64_t{0};

// The bits of the enum values this build knows.
uint64_t KnownBits(DelegateKind kind) {
  int count = KnownValueCount(kind);
  return count >= 64 ? kAllBits : (uint64_t{1} << count) - 1;
}

absl::Status ItemError(DelegateKind kind, absl::string_view detail) {
  return absl::InvalidArgumentError(absl::StrCat(OptionName(kind), ": ", detail));
}

// A number in the kernel's syntax: decimal, or 0x hex. A leading 0 is refused because the
// kernel (kstrtou64 base 0) would read it as octal, and "010" would mean two things.
bool LooksNumeric(absl::string_view item) {
  return !item.empty() && absl::ascii_isdigit(static_cast<unsigned char>(item[0]));
}

absl::StatusOr<uint64_t> ParseNumber(DelegateKind kind, absl::string_view item) {
  uint64_t value = 0;
  bool ok;
  if (absl::StartsWithIgnoreCase(item, "0x")) {
    absl::string_view digits = item.substr(2);
    ok = !digits.empty() && digits.size() <= 16 &&
         std::all_of(digits.begin(), digits.end(),
                     [](char c) { return absl::ascii_isxdigit(static_cast<unsigned char>(c)); }) &&
         absl::SimpleHexAtoi(digits, &value);
  } else if (item.size() > 1 && item[0] == '0') {
    return ItemError(kind, absl::StrCat("number '", Printable(item),
                                        "' has a leading 0, which the kernel reads as octal; "
                                        "write it in decimal or as 0x hex"));
  } else {
    ok = std::all_of(item.begin(), item.end(),
                     [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); }) &&
         absl::SimpleAtoi(item, &value);
  }
  if (!ok) {
    return ItemError(kind, absl::StrCat("'", Printable(item),
                                        "' is not a valid number (decimal or 0x hex, at most 64 "
                                        "bits)"));
  }
  if (uint64_t unknown = value & ~KnownBits(kind)) {
    return ItemError(kind, absl::StrCat("number '", Printable(item), "' sets bits beyond the last ",
                                        ItemNoun(kind), " this build knows (", KnownValueCount(kind) - 1,
                                        "): 0x", absl::Hex(unknown), "; use 'any' to allow all"));
  }
  return value;
}

absl::Status UnknownName(DelegateKind kind, absl::string_view item) {
  std::string message = absl::StrCat("unknown ", ItemNoun(kind), " '", Printable(item), "'");
  if (std::optional<int> kernel_value = KernelOnlyValue(kind, item)) {
    return ItemError(kind, absl::StrCat(ItemNoun(kind), " '", item, "' is known to this kernel (",
                                        *kernel_value, ") but not to this build of tokenbox; "
                                        "rebuild against newer libbpf and uapi headers"));
  }
  std::string prefix = absl::AsciiStrToLower(KernelEnumPrefix(kind));
  if (absl::StartsWithIgnoreCase(item, prefix)) {
    absl::string_view stripped = item.substr(prefix.size());
    if (LookupName(kind, stripped).has_value()) {
      absl::StrAppend(&message, " (write it without the prefix: '",
                      absl::AsciiStrToLower(stripped), "')");
      return ItemError(kind, message);
    }
  }
  if (std::string nearest = NearestName(kind, item); !nearest.empty()) {
    absl::StrAppend(&message, " (did you mean '", nearest, "'?)");
  }
  return ItemError(kind, message);
}

}  // namespace

DelegateMask& DelegationPolicy::operator[](DelegateKind kind) {
  switch (kind) {
    case DelegateKind::kCmds: return cmds;
    case DelegateKind::kMaps: return maps;
    case DelegateKind::kProgs: return progs;
    case DelegateKind::kAttachs: return attachs;
  }
  return cmds;
}

const DelegateMask& DelegationPolicy::operator[](DelegateKind kind) const {
  return const_cast<DelegationPolicy&>(*this)[kind];
}

absl::StatusOr<DelegateMask> ParseDelegateMask(DelegateKind kind, absl::string_view text) {
  DelegateMask mask;
  if (text.empty()) return mask;
  std::vector<absl::string_view> items = absl::StrSplit(text, absl::ByAnyChar(":,"));
  for (absl::string_view item : items) {
    if (item.empty()) {
      return ItemError(kind, absl::StrCat("empty item in '", Printable(text), "'"));
    }
    if (absl::EqualsIgnoreCase(item, "any")) {
      if (items.size() != 1) {
        return ItemError(kind, absl::StrCat("'any' already allows every ", ItemNoun(kind),
                                            " and cannot be combined with other items in '",
                                            Printable(text), "'"));
      }
      return DelegateMask{kAllBits, true};
    }
    uint64_t bits;
    if (LooksNumeric(item)) {
      absl::StatusOr<uint64_t> number = ParseNumber(kind, item);
      if (!number.ok()) return number.status();
      bits = *number;
    } else {
      std::optional<int> value = LookupName(kind, item);
      if (!value.has_value()) return UnknownName(kind, item);
      bits = uint64_t{1} << *value;
    }
    if (uint64_t repeated = bits & mask.bits) {
      return ItemError(kind, absl::StrCat("'", Printable(item), "' repeats ", ItemNoun(kind),
                                          " bit(s) 0x", absl::Hex(repeated), " given earlier in '",
                                          Printable(text), "'"));
    }
    mask.bits |= bits;
  }
  return mask;
}

absl::StatusOr<DelegationPolicy> ParseDelegationPolicy(absl::string_view cmds,
                                                       absl::string_view maps,
                                                       absl::string_view progs,
                                                       absl::string_view attachs) {
  DelegationPolicy policy;
  const absl::string_view texts[] = {cmds, maps, progs, attachs};
  for (DelegateKind kind : kAllDelegateKinds) {
    absl::StatusOr<DelegateMask> mask = ParseDelegateMask(kind, texts[static_cast<int>(kind)]);
    if (!mask.ok()) return mask.status();
    policy[kind] = *mask;
  }
  return policy;
}

std::string FormatDelegateMask(DelegateKind kind, const DelegateMask& mask) {
  if (mask.any || mask.bits == kAllBits) return "any";
  std::vector<std::string> items;
  uint64_t unnamed = 0;
  for (int value = 0; value < 64; ++value) {
    if (!mask.Allows(value)) continue;
    if (const char* name = CanonicalName(kind, value)) {
      items.emplace_back(name);
    } else {
      unnamed |= uint64_t{1} << value;
    }
  }
  if (unnamed != 0) items.push_back(absl::StrCat("0x", absl::Hex(unnamed)));
  return absl::StrJoin(items, ":");
}

std::string FormatDelegationPolicy(const DelegationPolicy& policy) {
  std::vector<std::string> options;
  for (DelegateKind kind : kAllDelegateKinds) {
    if (policy[kind].empty()) continue;
    options.push_back(absl::StrCat(OptionName(kind), "=", FormatDelegateMask(kind, policy[kind])));
  }
  return absl::StrJoin(options, ",");
}

}  // namespace tokenbox
