#ifndef TOKENBOX_NS_MOUNT_NAMESPACE_H_
#define TOKENBOX_NS_MOUNT_NAMESPACE_H_

#include "absl/status/status.h"

namespace tokenbox {

// Remounts "/" recursively MS_PRIVATE in the caller's (new) mount namespace, so that no mount
// made inside propagates back to the host and no host mount event reaches in.
absl::Status MakeMountsPrivate();

}  // namespace tokenbox

#endif  // TOKENBOX_NS_MOUNT_NAMESPACE_H_
