#include "tests/process_state.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <functional>
#include <set>
#include <iterator>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ns/unique_fd.h"

namespace tokenbox::testing {
namespace {

// Reads a /proc file with plain read(): a process can exit mid-read (ESRCH), which is an empty
// or short answer here, not an error (istreambuf_iterator would throw).
std::string ReadProcFileImpl(const std::string& path) {
  std::string text;
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return text;
  char buffer[4096];
  for (ssize_t n; (n = read(fd.get(), buffer, sizeof(buffer))) > 0;) {
    text.append(buffer, static_cast<size_t>(n));
  }
  return text;
}

// Calls `fn` with each numeric entry of /proc (each process).
void ForEachProcess(const std::function<void(const std::string& pid)>& fn) {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return;
  while (dirent* entry = readdir(proc)) {
    if (entry->d_name[0] >= '0' && entry->d_name[0] <= '9') fn(entry->d_name);
  }
  closedir(proc);
}

}  // namespace

std::string ReadProcFile(const std::string& path) { return ReadProcFileImpl(path); }

std::vector<int> OpenFds() {
  std::vector<int> fds;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  const int own = dirfd(dir);
  while (dirent* entry = readdir(dir)) {
    int fd = -1;
    if (absl::SimpleAtoi(entry->d_name, &fd) && fd != own) fds.push_back(fd);
  }
  closedir(dir);
  std::sort(fds.begin(), fds.end());
  return fds;
}

int CountOpenFds() { return static_cast<int>(OpenFds().size()); }

std::set<std::string> MountTable() {
  std::vector<std::string> lines =
      absl::StrSplit(ReadProcFileImpl("/proc/self/mountinfo"), '\n', absl::SkipEmpty());
  return std::set<std::string>(lines.begin(), lines.end());
}

std::vector<std::string> MountsLeftSince(const std::set<std::string>& before) {
  std::vector<std::string> added;
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  for (;;) {
    added.clear();
    for (const std::string& line : MountTable()) {
      if (before.count(line) == 0) added.push_back(line);
    }
    if (added.empty() || absl::Now() > give_up) return added;
    absl::SleepFor(absl::Milliseconds(100));
  }
}

std::optional<ProcessStat> ReadProcessStat(pid_t pid) {
  // The name, in parentheses, may hold spaces and parentheses itself: fields follow the last ')'.
  const std::string stat = ReadProcFile("/proc/" + std::to_string(pid) + "/stat");
  const size_t after_name = stat.rfind(')');
  if (after_name == std::string::npos) return std::nullopt;
  ProcessStat parsed;
  if (std::sscanf(stat.c_str() + after_name + 1, " %c %d", &parsed.state, &parsed.ppid) != 2) {
    return std::nullopt;
  }
  return parsed;
}

bool NoOtherWriter(int read_fd) {
  pollfd hangup = {read_fd, POLLIN, 0};
  char byte;
  return poll(&hangup, 1, 1000) == 1 && read(read_fd, &byte, 1) == 0;
}

int CountMounts() {
  std::string text = ReadProcFileImpl("/proc/self/mountinfo");
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

bool HasMountAt(const std::string& path, const std::string& fstype) {
  for (absl::string_view line : absl::StrSplit(ReadProcFileImpl("/proc/self/mountinfo"), '\n')) {
    // "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    if (fields.size() < 5 || fields[4] != path) continue;
    if (fstype.empty()) return true;
    for (size_t i = 5; i + 1 < fields.size(); ++i) {
      if (fields[i] == "-" && fields[i + 1] == fstype) return true;
    }
  }
  return false;
}

std::vector<pid_t> ProcessesWithArgument(const std::string& marker, ArgumentMatch match) {
  std::vector<pid_t> pids;
  ForEachProcess([&](const std::string& pid) {
    std::string cmdline = ReadProcFileImpl(absl::StrCat("/proc/", pid, "/cmdline"));
    bool found = false;
    if (match == ArgumentMatch::kAnywhere) {
      found = cmdline.find(marker) != std::string::npos;
    } else {
      for (absl::string_view arg : absl::StrSplit(cmdline, '\0')) {
        found = found || (match == ArgumentMatch::kPrefix ? absl::StartsWith(arg, marker)
                                                          : arg == marker);
      }
    }
    int value = 0;
    if (found && absl::SimpleAtoi(pid, &value)) pids.push_back(value);
  });
  return pids;
}

bool ProcessWithArgument(const std::string& marker) {
  return !ProcessesWithArgument(marker, ArgumentMatch::kAnywhere).empty();
}

bool AwaitExit(pid_t pid, absl::Duration bound) {
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) return errno == ESRCH;
  pollfd ended = {pidfd.get(), POLLIN, 0};
  int ready;
  do {
    ready = poll(&ended, 1, static_cast<int>(absl::ToInt64Milliseconds(bound)));
  } while (ready < 0 && errno == EINTR);
  return ready == 1;
}

}  // namespace tokenbox::testing
