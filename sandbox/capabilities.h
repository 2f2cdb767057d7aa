#ifndef TOKENBOX_SANDBOX_CAPABILITIES_H_
#define TOKENBOX_SANDBOX_CAPABILITIES_H_

#include "absl/status/status.h"
#include "token/capability_set.h"

namespace tokenbox {

// Sets the calling thread's effective, permitted and inheritable capabilities to exactly `keep`.
// Capabilities only ever shrink: asking to keep one the process lacks is an error.
absl::Status RestrictCapabilities(CapabilitySet keep);

// The capabilities of the calling process as /proc/self/status lists them.
struct ProcessCapabilities {
  CapabilitySet effective, permitted, inheritable, bounding, ambient;
};
absl::StatusOr<ProcessCapabilities> ReadProcessCapabilities();

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CAPABILITIES_H_
