#include "sandbox/child/signals.h"

#include "ns/errno_status.h"

namespace tokenbox {

sigset_t RelayedSignals() {
  sigset_t relayed;
  sigemptyset(&relayed);
  for (int sig : kRelayedSignals) sigaddset(&relayed, sig);
  return relayed;
}

sigset_t BlockRelayedSignals() {
  const sigset_t relayed = RelayedSignals();
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &relayed, &previous);
  return previous;
}

absl::Status ResetSignals(bool is_pid1) {
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
  }
  sigset_t mask;
  if (is_pid1) {
    mask = RelayedSignals();
  } else {
    sigemptyset(&mask);
  }
  return ErrnoUnless(sigprocmask(SIG_SETMASK, &mask, nullptr) == 0, "sigprocmask");
}

}  // namespace tokenbox
