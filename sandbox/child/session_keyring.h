#ifndef TOKENBOX_SANDBOX_CHILD_SESSION_KEYRING_H_
#define TOKENBOX_SANDBOX_CHILD_SESSION_KEYRING_H_

#include <cstdint>

#include "absl/status/status.h"

namespace tokenbox {

// Gives the calling process a fresh, empty session keyring: inherited, the launcher's would be
// the program's to read and to link keys into. `host_uid`, the sandbox's user, is charged for
// it, and named when its key quota is spent.
absl::Status JoinFreshSessionKeyring(uint32_t host_uid);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_SESSION_KEYRING_H_
