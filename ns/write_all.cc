#include "ns/write_all.h"

#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"

namespace tokenbox {

absl::Status WriteAll(int fd, absl::string_view data, absl::string_view what) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, absl::StrCat("write(", what, ")"));
    // A blocking fd writes at least one byte or fails; zero would loop forever.
    if (n == 0) return ErrnoStatus(EIO, absl::StrCat("write(", what, ") wrote nothing"));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace tokenbox
