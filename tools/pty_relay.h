#ifndef TOKENBOX_TOOLS_PTY_RELAY_H_
#define TOKENBOX_TOOLS_PTY_RELAY_H_

#include <sys/ioctl.h>
#include <termios.h>

#include <memory>
#include <optional>
#include <thread>

#include "absl/status/statusor.h"
#include "ns/unique_fd.h"

namespace tokenbox {

// `tokenbox run --pty`: a pseudo-terminal of the program's own, which the sandbox opens on its
// own devpts instance, relayed to tokenbox's stdin and stdout (as `systemd-run --pty` does), so that a shell inside gets job control and line
// editing while tokenbox's own terminal stays out of the program's reach: nothing it does to
// its terminal (TIOCSTI, modes, its foreground) touches tokenbox's.
class PtyRelay {
 public:
  // tokenbox's window size (its stdin's, or stdout's, terminal), for the program's terminal to
  // start with (CommandBuilder::OwnTerminal()); zero without a terminal.
  static winsize CallerWindowSize();

  // Relays `primary`, the primary end of the program's terminal (Child::TakeTerminal()): puts
  // tokenbox's terminal, if stdin is one, in raw mode (every key, ^C and ^Z included, goes to
  // the program's terminal), and relays on a thread of its own until Finish(): stdin to the
  // program's terminal (an end of input becomes its end-of-file character), its output to
  // stdout, and tokenbox's window size whenever it changes (SIGWINCH).
  static absl::StatusOr<std::unique_ptr<PtyRelay>> Start(UniqueFd primary);
  PtyRelay(const PtyRelay&) = delete;
  PtyRelay& operator=(const PtyRelay&) = delete;
  ~PtyRelay();  // Finish().

  // Once the sandbox has ended: relays what output is left, stops, and puts tokenbox's terminal
  // back as it was.
  void Finish();

 private:
  PtyRelay(UniqueFd relay_end, UniqueFd stop_read, UniqueFd stop_write)
      : relay_end_(std::move(relay_end)), stop_read_(std::move(stop_read)),
        stop_write_(std::move(stop_write)) {}
  void Relay();
  void CopyWindowSize();
  // Writes what the program printed and is still in the terminal to stdout.
  void DrainOutput();

  UniqueFd relay_end_;  // The pseudo-terminal's primary end, non-blocking.
  UniqueFd stop_read_, stop_write_;
  std::optional<termios> saved_modes_;  // tokenbox's terminal's, while in raw mode.
  std::thread thread_;
};

}  // namespace tokenbox

#endif  // TOKENBOX_TOOLS_PTY_RELAY_H_
