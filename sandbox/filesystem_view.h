#ifndef TOKENBOX_SANDBOX_FILESYSTEM_VIEW_H_
#define TOKENBOX_SANDBOX_FILESYSTEM_VIEW_H_

#include "absl/status/status.h"
#include "sandbox/sandbox.h"

namespace tokenbox {

// Arranges what of the host the sandbox sees and may write, in the child's own mount namespace
// (whose mounts are already private): the host read-only but for the writable paths, and a
// private /tmp, as `view` says.
absl::Status ApplyFilesystemView(const FilesystemView& view);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_FILESYSTEM_VIEW_H_
