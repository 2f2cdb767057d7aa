#include "tools/fuzzer_output.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "ns/errno_status.h"

namespace tokenbox {

void FuzzerOutput::Feed(absl::string_view bytes) {
  while (!bytes.empty()) {
    const size_t eol = bytes.find('\n');
    const absl::string_view part = bytes.substr(0, eol);
    line_.append(part.data(), std::min(part.size(), kMaxLine - line_.size()));
    if (eol == absl::string_view::npos) return;
    Scan(line_);
    line_.clear();
    bytes.remove_prefix(eol + 1);
  }
}

void FuzzerOutput::Finish() {
  if (!line_.empty()) Scan(line_);
  line_.clear();
}

void FuzzerOutput::Scan(absl::string_view line) {
  if (error_.empty() && line.find("ERROR: ") != absl::string_view::npos) {
    error_ = std::string(absl::StripAsciiWhitespace(line));
  }
  constexpr absl::string_view kWritten = "Test unit written to ";
  if (size_t at = line.find(kWritten); at != absl::string_view::npos) {
    artifact_ = std::string(absl::StripAsciiWhitespace(line.substr(at + kWritten.size())));
  }
}

namespace {

// One read into `output` and on to `to`; the bytes read, 0 at end-of-file, -1 when none are
// ready or on an error.
ssize_t CopyOnce(int from, int to, FuzzerOutput& output) {
  char buffer[8192];
  ssize_t n = read(from, buffer, sizeof(buffer));
  if (n > 0) {
    (void)!write(to, buffer, static_cast<size_t>(n));
    output.Feed(absl::string_view(buffer, static_cast<size_t>(n)));
  }
  return n;
}

}  // namespace

absl::Status CopyUntilSandboxEnds(int from, int to, int pidfd,
                                  std::optional<absl::Time> deadline, FuzzerOutput& output) {
  for (;;) {
    int wait_ms = -1;
    if (deadline.has_value()) {
      wait_ms = static_cast<int>(
          std::max<int64_t>(0, absl::ToInt64Milliseconds(*deadline - absl::Now())));
    }
    pollfd fds[2] = {{from, POLLIN, 0}, {pidfd, POLLIN, 0}};
    int ready = poll(fds, 2, wait_ms);
    if (ready == 0) return absl::OkStatus();  // The deadline: the caller kills the sandbox.
    if (ready < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "poll(fuzzer stderr, pidfd)",
                         "both fds are tokenbox's own; report this as a tokenbox bug");
    }
    if (fds[1].revents != 0) break;  // The sandbox is gone.
    if (CopyOnce(from, to, output) <= 0) return absl::OkStatus();  // End-of-file.
  }
  // What the sandbox wrote before it ended is in the pipe; a writer outside it gets no more.
  int flags = fcntl(from, F_GETFL);
  if (flags < 0 || fcntl(from, F_SETFL, flags | O_NONBLOCK) != 0) {
    return ErrnoStatus(errno, "fcntl(fuzzer stderr, O_NONBLOCK)",
                       "the pipe is tokenbox's own; report this as a tokenbox bug");
  }
  for (size_t drained = 0; drained < kDrainLimit;) {
    ssize_t n = CopyOnce(from, to, output);
    if (n <= 0) break;
    drained += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

std::optional<std::string> ArtifactInside(const std::string& reported, const std::string& workdir,
                                          const std::vector<std::string>& artifact_dirs) {
  if (reported.empty()) return std::nullopt;
  const std::string path = reported[0] == '/' ? reported : absl::StrCat(workdir, "/", reported);
  const size_t slash = path.rfind('/');
  const std::string name = path.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") return std::nullopt;
  char dir[PATH_MAX];
  if (realpath(slash == 0 ? "/" : path.substr(0, slash).c_str(), dir) == nullptr) {
    return std::nullopt;
  }
  if (std::find(artifact_dirs.begin(), artifact_dirs.end(), dir) == artifact_dirs.end()) {
    return std::nullopt;
  }
  const std::string inside = absl::StrCat(dir, "/", name);
  struct stat st;
  if (lstat(inside.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return inside;
}

}  // namespace tokenbox
