#ifndef TOKENBOX_SANDBOX_CHILD_SIGNALS_H_
#define TOKENBOX_SANDBOX_CHILD_SIGNALS_H_

#include <signal.h>

#include "absl/status/status.h"

namespace tokenbox {

// The signals that interrupt or end a program from its terminal or from tokenbox (which
// forwards them to the sandbox's pid 1) and that pid 1 passes on. SIGTSTP and SIGCONT (^Z and
// fg) stop or continue everything else in the pid namespace.
inline constexpr int kRelayedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGCONT};

// They are blocked from before pid 1 is forked until its handlers are in place: pid 1 discards
// a signal it has no handler for, even from outside its namespace, and one sent meanwhile would
// be lost.
sigset_t RelayedSignals();

// Blocks them in the calling thread; returns the mask it had, to put back.
sigset_t BlockRelayedSignals();

// Every disposition back to its default, and the mask emptied, but for the relayed signals in
// the process that becomes pid 1 (`is_pid1`): dispositions and the mask survive execve, and the
// launcher's (a test runner's SIGPIPE ignore, say) are not the program's.
absl::Status ResetSignals(bool is_pid1);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_SIGNALS_H_
