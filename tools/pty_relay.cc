#include "tools/pty_relay.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/start_thread.h"
#include "ns/pipe.h"
#include "ns/write_all.h"

namespace tokenbox {
namespace {

// The pipe SIGWINCH is noted on, made once and never closed, so that a handler running late
// cannot write into an fd that has since been reused. One relay at a time: tokenbox runs one
// program.
const Pipe* WindowChanges() {
  static const Pipe* const pipe = [] {
    absl::StatusOr<Pipe> made = MakePipe();
    if (!made.ok()) return static_cast<Pipe*>(nullptr);
    fcntl(made->write_end.get(), F_SETFL, O_NONBLOCK);
    fcntl(made->read_end.get(), F_SETFL, O_NONBLOCK);
    return new Pipe(*std::move(made));
  }();
  return pipe;
}

void NoteWindowChange(int) {
  const int saved_errno = errno;
  (void)!write(WindowChanges()->write_end.get(), "w", 1);
  errno = saved_errno;
}

}  // namespace

winsize PtyRelay::CallerWindowSize() {
  winsize size = {};
  for (int fd : {STDIN_FILENO, STDOUT_FILENO}) {
    if (ioctl(fd, TIOCGWINSZ, &size) == 0) return size;
  }
  return winsize{};
}

absl::StatusOr<std::unique_ptr<PtyRelay>> PtyRelay::Start(UniqueFd primary) {
  if (fcntl(primary.get(), F_SETFL, O_NONBLOCK) != 0) {
    return ErrnoStatus(errno, "fcntl(terminal, O_NONBLOCK)", "run tokenbox without --pty");
  }
  absl::StatusOr<Pipe> stop = MakePipe();
  if (!stop.ok()) return stop.status();
  std::unique_ptr<PtyRelay> relay(
      new PtyRelay(std::move(primary), std::move(stop->read_end), std::move(stop->write_end)));
  if (isatty(STDIN_FILENO)) {
    termios modes;
    if (tcgetattr(STDIN_FILENO, &modes) != 0) {
      return ErrnoStatus(errno, "tcgetattr(stdin)", "run tokenbox without --pty");
    }
    relay->saved_modes_ = modes;
    cfmakeraw(&modes);
    if (tcsetattr(STDIN_FILENO, TCSANOW, &modes) != 0) {
      relay->saved_modes_.reset();
      return ErrnoStatus(errno, "tcsetattr(stdin, raw)",
                         "tokenbox must be in its terminal's foreground to relay it; run it "
                         "there, or without --pty");
    }
  }
  PtyRelay* self = relay.get();
  absl::StatusOr<std::thread> relaying = StartThread([self] { self->Relay(); });
  if (!relaying.ok()) return relaying.status();
  relay->thread_ = *std::move(relaying);
  return relay;
}

PtyRelay::~PtyRelay() { Finish(); }

void PtyRelay::CopyWindowSize() {
  winsize size;
  for (int fd : {STDIN_FILENO, STDOUT_FILENO}) {
    if (ioctl(fd, TIOCGWINSZ, &size) == 0) {
      (void)ioctl(relay_end_.get(), TIOCSWINSZ, &size);
      return;
    }
  }
}

void PtyRelay::Finish() {
  if (thread_.joinable()) {
    (void)!write(stop_write_.get(), "s", 1);
    thread_.join();
  }
  if (saved_modes_.has_value()) {
    (void)tcsetattr(STDIN_FILENO, TCSADRAIN, &*saved_modes_);
    saved_modes_.reset();
  }
}

void PtyRelay::DrainOutput() {
  char buffer[4096];
  for (;;) {
    ssize_t n = read(relay_end_.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || !WriteAll(STDOUT_FILENO, {buffer, static_cast<size_t>(n)}, "stdout").ok()) {
      return;
    }
  }
}

void PtyRelay::Relay() {
  const Pipe* winch = WindowChanges();
  if (winch != nullptr) {
    struct sigaction action = {};
    action.sa_handler = NoteWindowChange;
    action.sa_flags = SA_RESTART;
    sigaction(SIGWINCH, &action, nullptr);
  }
  // Input the program's terminal has not taken yet: written as it makes room, and stdin is not
  // read meanwhile, so that a program that does not read cannot make tokenbox buffer without
  // bound, nor block it from relaying output.
  std::string pending;
  bool input_open = true;
  char buffer[4096];
  for (;;) {
    pollfd fds[4] = {
        {stop_read_.get(), POLLIN, 0},
        {relay_end_.get(), static_cast<short>(POLLIN | (pending.empty() ? 0 : POLLOUT)), 0},
        {input_open && pending.empty() ? STDIN_FILENO : -1, POLLIN, 0},
        {winch != nullptr ? winch->read_end.get() : -1, POLLIN, 0},
    };
    if (poll(fds, 4, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents != 0) break;
    if (fds[3].revents & POLLIN) {
      while (read(winch->read_end.get(), buffer, sizeof(buffer)) > 0) {
      }
      CopyWindowSize();
    }
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      ssize_t n = read(relay_end_.get(), buffer, sizeof(buffer));
      if (n > 0) (void)WriteAll(STDOUT_FILENO, {buffer, static_cast<size_t>(n)}, "stdout");
      // EIO: no one has the program's end open any more, so nothing more can come.
      if (n < 0 && errno == EIO) break;
    }
    if (!pending.empty() && (fds[1].revents & POLLOUT)) {
      ssize_t n = write(relay_end_.get(), pending.data(), pending.size());
      if (n > 0) pending.erase(0, static_cast<size_t>(n));
    }
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(STDIN_FILENO, buffer, sizeof(buffer));
      if (n > 0) {
        pending.assign(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        // The end of tokenbox's input: the program's terminal reads its end-of-file character.
        input_open = false;
        termios modes;
        pending = tcgetattr(relay_end_.get(), &modes) == 0 ? std::string(1, modes.c_cc[VEOF])
                                                             : std::string("\x04");
      }
    }
  }
  if (winch != nullptr) signal(SIGWINCH, SIG_DFL);
  DrainOutput();
}

}  // namespace tokenbox
