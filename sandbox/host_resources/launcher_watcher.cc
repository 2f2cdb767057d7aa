#include "sandbox/host_resources/launcher_watcher.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "ns/errno_status.h"

namespace tokenbox {

absl::StatusOr<std::unique_ptr<LauncherWatcher>> LauncherWatcher::Start(
    const std::vector<int>& keep, const std::function<void()>& on_launcher_end) {
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe2(launcher watcher)");
  UniqueFd read_end(ends[0]);
  UniqueFd write_end(ends[1]);
  const pid_t pid = fork();
  if (pid < 0) return ErrnoStatus(errno, "fork(launcher watcher)");
  if (pid == 0) {
    // The pipe at 0, `keep` from 1 on. Each is first copied above that range, so that placing
    // one cannot overwrite another still to be placed.
    const int above = static_cast<int>(keep.size()) + 1;
    std::vector<int> copies = {fcntl(read_end.get(), F_DUPFD, above)};
    for (int fd : keep) copies.push_back(fcntl(fd, F_DUPFD, above));
    for (size_t target = 0; target < copies.size(); ++target) {
      if (copies[target] < 0 || dup2(copies[target], static_cast<int>(target)) < 0) _exit(1);
    }
    if (syscall(SYS_close_range, static_cast<unsigned>(keep.size() + 1), ~0u, 0u) != 0) _exit(1);
    char byte;
    ssize_t n;
    while ((n = read(0, &byte, 1)) < 0 && errno == EINTR) {
    }
    if (n == 0) on_launcher_end();  // End-of-file: the launcher is gone, and did not dismiss.
    _exit(0);
  }
  return std::unique_ptr<LauncherWatcher>(new LauncherWatcher(std::move(write_end), pid));
}

LauncherWatcher::~LauncherWatcher() {
  (void)!write(pipe_.get(), "d", 1);
  pipe_.Reset();
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace tokenbox
