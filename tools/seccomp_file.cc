#include "tools/seccomp_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/unique_fd.h"

namespace tokenbox {

absl::StatusOr<std::vector<sock_filter>> ReadSeccompFile(const std::string& path) {
  const std::string what = absl::StrCat("--seccomp: ", Printable(path));
  // Opened without blocking (a FIFO would wait for a writer forever) and without taking a
  // terminal as tokenbox's own; what it is is checked next.
  UniqueFd file(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!file) return ErrnoStatus(errno, absl::StrCat(what, ": open"));
  struct stat st;
  if (fstat(file.get(), &st) != 0) return ErrnoStatus(errno, absl::StrCat(what, ": fstat"));
  constexpr off_t kMaxBytes = BPF_MAXINSNS * sizeof(sock_filter);
  if (!S_ISREG(st.st_mode) || st.st_size == 0 || st.st_size > kMaxBytes ||
      st.st_size % static_cast<off_t>(sizeof(sock_filter)) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " is not a compiled seccomp filter: a regular file of 1 to ", BPF_MAXINSNS,
        " instructions of ", sizeof(sock_filter), " bytes, as seccomp_export_bpf() writes"));
  }
  std::vector<sock_filter> program(static_cast<size_t>(st.st_size) / sizeof(sock_filter));
  char* bytes = reinterpret_cast<char*>(program.data());
  for (size_t done = 0; done < static_cast<size_t>(st.st_size);) {
    ssize_t n = read(file.get(), bytes + done, static_cast<size_t>(st.st_size) - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, absl::StrCat(what, ": read"));
    if (n == 0) return absl::DataLossError(absl::StrCat(what, " shrank while it was read"));
    done += static_cast<size_t>(n);
  }
  return program;
}

}  // namespace tokenbox
