#include "sandbox/child/terminal_isolation.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/string_view.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"
#include "sandbox/protocol.h"

namespace tokenbox {
namespace {

constexpr absl::string_view kOwnGroupRemedy =
    "the child already leads a process group or session, or a security module forbids it; "
    "report this as a tokenbox bug if neither";

}  // namespace

absl::Status StartOwnSession() { return ErrnoUnless(setsid() >= 0, "setsid", kOwnGroupRemedy); }

absl::Status StartOwnProcessGroup() {
  return ErrnoUnless(setpgid(0, 0) == 0, "setpgid(0, 0)", kOwnGroupRemedy);
}

absl::StatusOr<UniqueFd> OfferOwnTerminal(int sock, const winsize& size) {
  constexpr absl::string_view kRemedy =
      "the sandbox's devpts allows 64 terminals; run without --pty (OwnTerminal())";
  UniqueFd primary(open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!primary) return ErrnoStatus(errno, "open(/dev/pts/ptmx)", kRemedy);
  int unlock = 0;
  if (ioctl(primary.get(), TIOCSPTLCK, &unlock) != 0) {
    return ErrnoStatus(errno, "ioctl(TIOCSPTLCK)", kRemedy);
  }
  if (ioctl(primary.get(), TIOCSWINSZ, &size) != 0) {
    return ErrnoStatus(errno, "ioctl(TIOCSWINSZ)", kRemedy);
  }
  // The peer of this primary, whatever /dev/pts now holds: no lookup by name.
  UniqueFd secondary(ioctl(primary.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!secondary) return ErrnoStatus(errno, "ioctl(TIOCGPTPEER)", kRemedy);
  const int primary_fd = primary.get();
  if (absl::Status s = SendFdMessage(sock, kOwnTerminal, "", {&primary_fd, 1}); !s.ok()) return s;
  return secondary;
}

absl::Status TakeControllingTerminal() {
  if (getsid(0) != getpid() && setsid() < 0) {
    return ErrnoStatus(errno, "setsid",
                       "a terminal of its own needs a session of its own: do not share "
                       "tokenbox's session (--share-session) without a pid namespace");
  }
  return ErrnoUnless(ioctl(STDIN_FILENO, TIOCSCTTY, 0) == 0, "ioctl(0, TIOCSCTTY)",
                     "the terminal must not be another session's controlling terminal");
}

}  // namespace tokenbox
