#ifndef TOKENBOX_SANDBOX_CAPABILITIES_H_
#define TOKENBOX_SANDBOX_CAPABILITIES_H_

#include "absl/status/status.h"
#include "token/capability_set.h"

namespace tokenbox {

// Sets the calling thread's effective, permitted and inheritable capabilities to exactly `keep`.
// Capabilities only ever shrink: asking to keep one the process lacks is an error.
absl::Status RestrictCapabilities(CapabilitySet keep);

// Makes `keep` the only capabilities that survive the coming execve, and nothing ever able to
// bring others back. In this order, because each step needs what the next one drops:
//   1. securebits NOROOT | NO_SETUID_FIXUP, both locked: uid 0 gains nothing at exec;
//   2. the bounding set reduced to `keep` (needs CAP_SETPCAP);
//   3. effective, permitted and inheritable set to `keep`;
//   4. the ambient set raised to exactly `keep` (what carries them across exec);
//   5. PR_SET_NO_NEW_PRIVS: no setuid bit or file capability can add any.
// After execve: CapEff = CapPrm = CapBnd = CapInh = CapAmb = `keep`, NoNewPrivs 1.
absl::Status LockCapabilitiesForExec(CapabilitySet keep);

// The capabilities of the calling process as /proc/self/status lists them.
struct ProcessCapabilities {
  CapabilitySet effective, permitted, inheritable, bounding, ambient;
};
absl::StatusOr<ProcessCapabilities> ReadProcessCapabilities();

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CAPABILITIES_H_
