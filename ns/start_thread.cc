#include "ns/start_thread.h"

#include "ns/errno_status.h"

namespace tokenbox {

absl::Status ThreadRefused(int error) {
  return ErrnoStatus(error, "pthread_create",
                     "the process is out of threads or memory (its pids or memory limit)");
}

}  // namespace tokenbox
