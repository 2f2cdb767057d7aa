#ifndef TOKENBOX_TOKEN_PROCESS_CAPABILITIES_H_
#define TOKENBOX_TOKEN_PROCESS_CAPABILITIES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "token/capability_set.h"

namespace tokenbox {

// The calling process's capabilities: reading them, and changing them for a sandbox. Every
// other part of tokenbox asks here.

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

// For a process that stays privileged (tokenboxd): the bounding set reduced to `keep`, and then
// the effective, permitted and inheritable sets, so that neither it nor what it starts before a
// new user namespace ever holds another.
absl::Status KeepOnlyCapabilities(CapabilitySet keep);

// The capabilities of the calling process as /proc/self/status lists them.
struct ProcessCapabilities {
  CapabilitySet effective, permitted, inheritable, bounding, ambient;
};
absl::StatusOr<ProcessCapabilities> ReadProcessCapabilities();

// Whether the caller lives in the initial user namespace (its uid_map is the identity map over
// all ids). Inside a container or Bazel's linux-sandbox it does not, and then no capability it
// holds counts for what only the host may do, such as configuring a delegated bpffs.
bool InInitialUserNamespace();

// Empty when the caller can configure a delegated bpffs: CAP_SYS_ADMIN, effective, in the initial
// user namespace. Otherwise a sentence saying what is lacking.
std::string WhyCannotDelegate();

}  // namespace tokenbox

#endif  // TOKENBOX_TOKEN_PROCESS_CAPABILITIES_H_
