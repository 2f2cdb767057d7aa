#ifndef TOKENBOX_SANDBOX_CHILD_TERMINAL_ISOLATION_H_
#define TOKENBOX_SANDBOX_CHILD_TERMINAL_ISOLATION_H_

#include <sys/ioctl.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ns/unique_fd.h"

namespace tokenbox {

// How the child keeps the program from the launcher's terminal.

// A new session, without the launcher's controlling terminal, so that the program cannot push
// input into it (TIOCSTI) or take its foreground; the child also leads a process group then.
absl::Status StartOwnSession();

// Sharing the launcher's session: a process group the child leads, so that a timeout or Kill()
// reaches all it starts.
absl::Status StartOwnProcessGroup();

// A pseudo-terminal of the sandbox's devpts instance, of `size`: its primary end is sent to the
// launcher on `sock` (kOwnTerminal), which relays it; its secondary end, returned, is the
// program's.
absl::StatusOr<UniqueFd> OfferOwnTerminal(int sock, const winsize& size);

// Makes the terminal on fd 0 the controlling terminal of a session the program leads. The
// child's own new session (or, forked by a fork server, its launch's) is led by a process that
// is not the program when there is a pid namespace, so the program makes its own.
absl::Status TakeControllingTerminal();

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_TERMINAL_ISOLATION_H_
