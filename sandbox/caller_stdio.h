#ifndef TOKENBOX_SANDBOX_CALLER_STDIO_H_
#define TOKENBOX_SANDBOX_CALLER_STDIO_H_

#include <termios.h>

#include <optional>
#include <vector>

#include "sandbox/command.h"

namespace tokenbox {

// What a sandbox that shares the launcher's stdio could leave changed in it: the file status
// flags (O_NONBLOCK, O_APPEND) of open file descriptions it shares, and the modes of a terminal
// (-echo, -icanon, -isig), which it may set without being the terminal's session. Saved at
// launch and put back when the sandbox has been reaped, so the caller (a shell, say) finds its
// stdio as it left it, whatever the program did.
class CallerStdio {
 public:
  CallerStdio() = default;
  // Fds 0-2 of the caller, except any that `command` replaces with an fd of its own.
  static CallerStdio SharedWith(const Command& command);
  // Fds 0-2 of the caller: a fork server's launches inherit them from its zygote.
  static CallerStdio All();

  // Puts back what differs; a terminal's modes even when the caller is a background job.
  void Restore() const;

 private:
  struct Saved {
    int fd;
    int status_flags;
    std::optional<termios> modes;  // When the fd is a terminal.
  };
  static CallerStdio Save(const std::vector<int>& fds);

  std::vector<Saved> saved_;
};

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CALLER_STDIO_H_
