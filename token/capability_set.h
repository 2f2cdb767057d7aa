#ifndef TOKENBOX_TOKEN_CAPABILITY_SET_H_
#define TOKENBOX_TOKEN_CAPABILITY_SET_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tokenbox {

// A set of Linux capabilities, bit N for capability N, as /proc/PID/status shows them.
class CapabilitySet {
 public:
  constexpr CapabilitySet() = default;
  constexpr explicit CapabilitySet(uint64_t bits) : bits_(bits) {}
  static CapabilitySet Of(std::initializer_list<int> caps);

  // "net_admin,perfmon", "CAP_BPF", "cap_net_admin:perfmon": names with or without the cap_
  // prefix, in any case, separated by ',' or ':'. Unknown names are refused by name.
  static absl::StatusOr<CapabilitySet> Parse(absl::string_view text);

  bool Has(int cap) const { return cap >= 0 && cap < 64 && ((bits_ >> cap) & 1); }
  CapabilitySet With(int cap) const { return CapabilitySet(bits_ | (uint64_t{1} << cap)); }
  CapabilitySet Union(CapabilitySet other) const { return CapabilitySet(bits_ | other.bits_); }
  CapabilitySet Minus(CapabilitySet other) const { return CapabilitySet(bits_ & ~other.bits_); }
  bool Contains(CapabilitySet other) const { return (other.bits_ & ~bits_) == 0; }
  bool empty() const { return bits_ == 0; }
  uint64_t bits() const { return bits_; }

  // "cap_bpf,cap_net_admin" in capability order; "" when empty.
  std::string ToString() const;

  friend bool operator==(CapabilitySet a, CapabilitySet b) { return a.bits_ == b.bits_; }

 private:
  uint64_t bits_ = 0;
};

// The name libcap gives `cap` ("cap_bpf"), or "cap_N" for one it does not know.
std::string CapabilityName(int cap);

}  // namespace tokenbox

#endif  // TOKENBOX_TOKEN_CAPABILITY_SET_H_
