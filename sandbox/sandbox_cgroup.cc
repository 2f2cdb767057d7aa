#include "sandbox/sandbox_cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ns/errno_status.h"
#include "ns/list_directory.h"
#include "sandbox/launcher_watcher.h"

namespace tokenbox {
namespace {

constexpr absl::string_view kPrefix = "tokenbox-";

// Where the cgroup2 hierarchy is mounted (the one under /sys/fs/cgroup if there are several),
// or nullopt.
std::optional<std::string> Cgroup2MountPoint() {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  std::optional<std::string> found;
  while (std::getline(mountinfo, line)) {
    // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS...] - FSTYPE SOURCE SUPEROPTIONS"
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    size_t dash = 0;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (fields.size() < 5 || dash + 1 >= fields.size() || fields[dash + 1] != "cgroup2") continue;
    if (!found.has_value() || absl::StartsWith(fields[4], "/sys/fs/cgroup")) found = fields[4];
  }
  return found;
}

// The launcher's cgroup in the cgroup2 hierarchy ("0::/path" in /proc/self/cgroup).
std::optional<std::string> OwnCgroup2Path() {
  std::ifstream cgroups("/proc/self/cgroup");
  std::string line;
  while (std::getline(cgroups, line)) {
    if (absl::StartsWith(line, "0::")) return line.substr(3);
  }
  return std::nullopt;
}

absl::Status RemoveKilledCgroup(int parent_fd, const std::string& name);

// Removes the cgroups below `dir_fd` (a fork server's launches), which its cgroup.kill reached.
void RemoveChildCgroups(int dir_fd) {
  for (const DirectoryEntry& entry : ListDirectory(dir_fd)) {
    if (entry.type == DT_DIR) (void)RemoveKilledCgroup(dir_fd, entry.name);
  }
}

// Removes the cgroup `name` below `parent_fd`, and those below it, once their processes, all
// killed, are gone.
absl::Status RemoveKilledCgroup(int parent_fd, const std::string& name) {
  UniqueFd dir(openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir) RemoveChildCgroups(dir.get());
  // Killed processes leave the cgroup as they exit; an empty one can be removed.
  for (int attempt = 0; attempt < 200; ++attempt) {
    if (unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) {
      return absl::OkStatus();
    }
    if (errno != EBUSY) break;
    usleep(5000);
  }
  return ErrnoStatus(errno, absl::StrCat("rmdir(", name, ")"));
}

// Ends what is left in the cgroup `name` below `parent_fd`, and below it, and removes them.
// cgroup.kill (Linux 5.14) reaches every process in it and its descendants, which none can
// leave: cgroup.procs above is root's.
absl::Status RemoveCgroup(int parent_fd, const std::string& name) {
  UniqueFd kill_file(openat(parent_fd, absl::StrCat(name, "/cgroup.kill").c_str(),
                            O_WRONLY | O_CLOEXEC));
  if (kill_file) (void)!write(kill_file.get(), "1", 1);
  return RemoveKilledCgroup(parent_fd, name);
}

// Removes the cgroups of launchers that are gone: named tokenbox-<pid>-<n>, with no process
// <pid>. (A pid reused since is taken for the launcher's, and its cgroups are left alone.)
void RemoveAbandoned(int parent_fd) {
  for (const DirectoryEntry& entry : ListDirectory(parent_fd)) {
    absl::string_view name = entry.name;
    if (!absl::StartsWith(name, kPrefix)) continue;
    std::vector<absl::string_view> parts = absl::StrSplit(name.substr(kPrefix.size()), '-');
    int pid = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &pid) || pid <= 0) continue;
    if (pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH) {
      (void)RemoveCgroup(parent_fd, entry.name);
    }
  }
}

}  // namespace

absl::StatusOr<std::shared_ptr<const SandboxCgroup>> SandboxCgroup::Create(bool watch_launcher) {
  std::optional<std::string> mount_point = Cgroup2MountPoint();
  if (!mount_point.has_value()) return std::shared_ptr<const SandboxCgroup>();
  std::optional<std::string> own = OwnCgroup2Path();
  if (!own.has_value()) {
    return absl::FailedPreconditionError(
        "/proc/self/cgroup names no cgroup2 cgroup of tokenbox's, though cgroup2 is mounted at " +
        *mount_point);
  }
  const std::string parent = *own == "/" ? *mount_point : *mount_point + *own;
  constexpr absl::string_view kRemedy =
      "the sandbox needs a cgroup of its own below tokenbox's, so that cgroup programs attach "
      "only to it: run tokenbox where root may make cgroups there, or give --share-cgroup "
      "(which refuses cgroup program types)";
  UniqueFd parent_fd(open(parent.c_str(), O_DIRECTORY | O_CLOEXEC));
  if (!parent_fd) return ErrnoStatus(errno, absl::StrCat("open(", parent, ")"), kRemedy);
  RemoveAbandoned(parent_fd.get());
  absl::StatusOr<std::unique_ptr<SandboxCgroup>> cgroup =
      MakeBelow(parent_fd.get(), parent, absl::StrCat(kPrefix, getpid(), "-"), kRemedy);
  if (!cgroup.ok()) return cgroup.status();
  if (watch_launcher) {
    const std::string name = (*cgroup)->path_.substr(parent.size() + 1);
    absl::StatusOr<std::unique_ptr<LauncherWatcher>> watcher = LauncherWatcher::Start(
        {parent_fd.get()}, [name] { (void)RemoveCgroup(/*parent_fd=*/1, name); });
    if (!watcher.ok()) return watcher.status();
    (*cgroup)->watcher_ = *std::move(watcher);
  }
  return std::shared_ptr<const SandboxCgroup>(*std::move(cgroup));
}

absl::StatusOr<std::shared_ptr<const SandboxCgroup>> SandboxCgroup::CreateBelow(
    std::shared_ptr<const SandboxCgroup> parent) {
  absl::StatusOr<std::unique_ptr<SandboxCgroup>> cgroup =
      MakeBelow(parent->dir_fd(), parent->path(), "launch-",
                "root must be able to make cgroups below the fork server's");
  if (!cgroup.ok()) return cgroup.status();
  (*cgroup)->parent_ = std::move(parent);
  return std::shared_ptr<const SandboxCgroup>(*std::move(cgroup));
}

absl::StatusOr<std::unique_ptr<SandboxCgroup>> SandboxCgroup::MakeBelow(
    int parent_fd, const std::string& parent_path, absl::string_view prefix,
    absl::string_view remedy) {
  static std::atomic<unsigned> counter{0};
  for (;;) {
    const std::string name = absl::StrCat(prefix, counter.fetch_add(1));
    const std::string path = absl::StrCat(parent_path, "/", name);
    if (mkdirat(parent_fd, name.c_str(), 0755) != 0) {
      if (errno == EEXIST) continue;
      return ErrnoStatus(errno, absl::StrCat("mkdir(", path, ")"), remedy);
    }
    UniqueFd dir(openat(parent_fd, name.c_str(), O_DIRECTORY | O_CLOEXEC));
    if (!dir) {
      const int open_errno = errno;
      (void)unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR);
      return ErrnoStatus(open_errno, absl::StrCat("open(", path, ")"), remedy);
    }
    return std::unique_ptr<SandboxCgroup>(new SandboxCgroup(path, std::move(dir)));
  }
}

absl::Status SandboxCgroup::MoveIn(pid_t pid) const {
  UniqueFd procs(openat(dir_.get(), "cgroup.procs", O_WRONLY | O_CLOEXEC));
  constexpr absl::string_view kRemedy =
      "root must be able to move processes between cgroups below tokenbox's";
  if (!procs) return ErrnoStatus(errno, absl::StrCat("open(", path_, "/cgroup.procs)"), kRemedy);
  const std::string text = absl::StrCat(pid);
  if (write(procs.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return ErrnoStatus(errno, absl::StrCat("write(", path_, "/cgroup.procs, ", pid, ")"), kRemedy);
  }
  return absl::OkStatus();
}

SandboxCgroup::~SandboxCgroup() {
  const size_t slash = path_.rfind('/');
  UniqueFd parent(open(path_.substr(0, slash).c_str(), O_DIRECTORY | O_CLOEXEC));
  if (parent) (void)RemoveCgroup(parent.get(), path_.substr(slash + 1));
  // watcher_, dismissed after this.
}

absl::Status EnterCgroup(int dir_fd) {
  UniqueFd procs(openat(dir_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC));
  if (!procs) {
    return ErrnoStatus(errno, "open(cgroup.procs)",
                       "the child, still root, must be able to write its cgroup's cgroup.procs");
  }
  if (write(procs.get(), "0", 1) != 1) {
    return ErrnoStatus(errno, "write(cgroup.procs, 0)",
                       "a cgroup with controllers enabled for its children cannot take processes");
  }
  return absl::OkStatus();
}

absl::Status MountCgroupView() {
  struct statfs fs;
  if (statfs("/sys/fs/cgroup", &fs) != 0) return absl::OkStatus();  // Nothing to hide.
  constexpr unsigned long kReadOnly = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;
  constexpr absl::string_view kRemedy = "a security module may refuse mounts in user namespaces";
  auto mount_cgroup2 = [&](const char* where) {
    return mount("cgroup2", where, "cgroup2", kReadOnly, nullptr) == 0
               ? absl::OkStatus()
               : ErrnoStatus(errno, absl::StrCat("mount(cgroup2, ", where, ")"), kRemedy);
  };
  if (fs.f_type == CGROUP2_SUPER_MAGIC) return mount_cgroup2("/sys/fs/cgroup");
  const bool hybrid =
      statfs("/sys/fs/cgroup/unified", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
  if (mount("tokenbox", "/sys/fs/cgroup", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
            "mode=0755,size=16k") != 0) {
    return ErrnoStatus(errno, "mount(tmpfs, /sys/fs/cgroup)", kRemedy);
  }
  if (hybrid) {
    if (mkdir("/sys/fs/cgroup/unified", 0555) != 0) {
      return ErrnoStatus(errno, "mkdir(/sys/fs/cgroup/unified)", kRemedy);
    }
    if (absl::Status s = mount_cgroup2("/sys/fs/cgroup/unified"); !s.ok()) return s;
  }
  if (mount(nullptr, "/sys/fs/cgroup", nullptr, MS_REMOUNT | MS_BIND | kReadOnly, nullptr) != 0) {
    return ErrnoStatus(errno, "mount(/sys/fs/cgroup, MS_REMOUNT | MS_RDONLY)", kRemedy);
  }
  return absl::OkStatus();
}

}  // namespace tokenbox
