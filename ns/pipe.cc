#include "ns/pipe.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "ns/errno_status.h"

namespace tokenbox {

absl::StatusOr<Pipe> MakePipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    int err = errno;
    return ErrnoStatus(err, "pipe2(O_CLOEXEC)",
                       err == EMFILE ? "this process is at its fd limit (RLIMIT_NOFILE)"
                       : err == ENFILE ? "the system is at its open-file limit (fs.file-max)"
                                       : "");
  }
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace tokenbox
