#include "sandbox/host_resources/sandbox_cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ns/errno_status.h"
#include "ns/list_directory.h"
#include "sandbox/host_resources/cgroup_hierarchy.h"
#include "sandbox/host_resources/launcher_watcher.h"

namespace tokenbox {
namespace {

constexpr absl::string_view kPrefix = "tokenbox-";

absl::Status RemoveKilledCgroup(int parent_fd, const std::string& name);

// Removes the cgroups below `dir_fd` (a fork server's launches), which its cgroup.kill reached.
void RemoveChildCgroups(int dir_fd) {
  for (const DirectoryEntry& entry : ListDirectory(dir_fd)) {
    if (entry.type == DT_DIR) (void)RemoveKilledCgroup(dir_fd, entry.name);
  }
}

// Kills every process in the cgroup `dir_fd` by pid: a v1 cgroup has no cgroup.kill. A process
// that leaves, or forks, meanwhile is met on the next round.
void KillListedProcesses(int dir_fd) {
  UniqueFd procs(openat(dir_fd, "cgroup.procs", O_RDONLY | O_CLOEXEC));
  if (!procs) return;
  char buffer[4096];
  std::string text;
  for (ssize_t n; (n = read(procs.get(), buffer, sizeof(buffer))) > 0;) text.append(buffer, n);
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    int pid = 0;
    if (absl::SimpleAtoi(line, &pid) && pid > 0) kill(pid, SIGKILL);
  }
}

// Removes the cgroup `name` below `parent_fd`, and those below it, once their processes, all
// killed, are gone.
absl::Status RemoveKilledCgroup(int parent_fd, const std::string& name) {
  UniqueFd dir(openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir) RemoveChildCgroups(dir.get());
  const bool has_kill_file = dir && faccessat(dir.get(), "cgroup.kill", F_OK, 0) == 0;
  // Killed processes leave the cgroup as they exit; an empty one can be removed.
  for (int attempt = 0; attempt < 200; ++attempt) {
    if (unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) {
      return absl::OkStatus();
    }
    if (errno != EBUSY) break;
    if (dir && !has_kill_file) KillListedProcesses(dir.get());
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

// Removes, in every hierarchy a sandbox's cgroup may be in, those of launchers that are gone,
// whatever limits this launch has: a SIGKILLed launcher's memory cgroup is removed by the next
// launch on the machine, limited or not.
void RemoveAbandonedEverywhere(const CgroupLayout& layout) {
  std::vector<std::string> parents;
  if (absl::StatusOr<std::optional<CgroupHierarchy>> cgroup2 = layout.Cgroup2();
      cgroup2.ok() && cgroup2->has_value()) {
    parents.push_back((*cgroup2)->LauncherDirectory());
  }
  for (const char* controller : {"pids", "memory", "cpu"}) {
    absl::StatusOr<CgroupHierarchy> hierarchy = layout.ControllerHierarchy(controller);
    if (hierarchy.ok() && hierarchy->version == 1) parents.push_back(hierarchy->LauncherDirectory());
  }
  for (const std::string& parent : parents) {
    UniqueFd parent_fd(open(parent.c_str(), O_DIRECTORY | O_CLOEXEC));
    if (parent_fd) RemoveAbandoned(parent_fd.get());
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<SandboxCgroup>> SandboxCgroup::MakeIn(
    const CgroupHierarchy& hierarchy, bool watch_launcher, absl::string_view remedy) {
  const std::string parent = hierarchy.LauncherDirectory();
  UniqueFd parent_fd(open(parent.c_str(), O_DIRECTORY | O_CLOEXEC));
  if (!parent_fd) return ErrnoStatus(errno, absl::StrCat("open(", parent, ")"), remedy);
  absl::StatusOr<std::unique_ptr<SandboxCgroup>> cgroup =
      MakeBelow(parent_fd.get(), parent, absl::StrCat(kPrefix, getpid(), "-"), remedy);
  if (!cgroup.ok()) return cgroup.status();
  if (watch_launcher) {
    const std::string name = (*cgroup)->path_.substr(parent.size() + 1);
    absl::StatusOr<std::unique_ptr<LauncherWatcher>> watcher = LauncherWatcher::Start(
        {parent_fd.get()}, [name] { (void)RemoveCgroup(/*parent_fd=*/1, name); });
    if (!watcher.ok()) return watcher.status();
    (*cgroup)->watcher_ = *std::move(watcher);
  }
  return cgroup;
}

absl::Status SandboxCgroup::WriteFile(int dir_fd, const std::string& dir_path,
                                      absl::string_view file, absl::string_view value,
                                      absl::string_view remedy) {
  const std::string call = absl::StrCat("write(", dir_path, "/", file, ", ", value, ")");
  UniqueFd fd(openat(dir_fd, std::string(file).c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return ErrnoStatus(errno, call, remedy);
  if (write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
    return ErrnoStatus(errno, call, remedy);
  }
  return absl::OkStatus();
}

absl::Status SandboxCgroup::Limit(const CgroupLayout& layout, absl::string_view controller,
                                  const LimitFiles& v1_files, const LimitFiles& v2_files,
                                  bool watch_launcher) {
  absl::StatusOr<CgroupHierarchy> hierarchy = layout.ControllerHierarchy(controller);
  if (!hierarchy.ok()) return hierarchy.status();
  const SandboxCgroup* target = nullptr;
  if (hierarchy->version == 2) {
    if (!dir_) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the ", controller, " controller is on cgroup2, where a limit needs the sandbox's own "
          "cgroup: drop --share-cgroup"));
    }
    // cgroup v2 delegates a controller to children only from a cgroup without processes of its
    // own (but the root); tokenbox's own cgroup holds tokenbox.
    const std::string parent = hierarchy->LauncherDirectory();
    UniqueFd parent_fd(open(parent.c_str(), O_DIRECTORY | O_CLOEXEC));
    if (!parent_fd) return ErrnoStatus(errno, absl::StrCat("open(", parent, ")"));
    if (absl::Status s = WriteFile(
            parent_fd.get(), parent, "cgroup.subtree_control", absl::StrCat("+", controller),
            absl::StrCat("cgroup v2 lets a cgroup with processes of its own (tokenbox's, ", parent,
                         ") give its children no controller: start tokenbox in a cgroup of its "
                         "own below one that has ", controller, " in cgroup.subtree_control"));
        !s.ok()) {
      return s;
    }
    target = this;
  } else {
    for (const std::unique_ptr<SandboxCgroup>& companion : companions_) {
      if (absl::StartsWith(companion->path_, hierarchy->mount_point + "/")) target = companion.get();
    }
    if (target == nullptr) {
      absl::StatusOr<std::unique_ptr<SandboxCgroup>> made = MakeIn(
          *hierarchy, watch_launcher,
          absl::StrCat("root must be able to make cgroups below tokenbox's in the ", controller,
                       " hierarchy"));
      if (!made.ok()) return made.status();
      companions_.push_back(*std::move(made));
      target = companions_.back().get();
    }
  }
  for (const auto& [file, value] : hierarchy->version == 2 ? v2_files : v1_files) {
    if (absl::Status s = WriteFile(target->dir_.get(), target->path_, file, value,
                                   absl::StrCat("the ", controller, " controller refused the "
                                                "limit; check the value against the machine's"));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const SandboxCgroup>> SandboxCgroup::Create(
    bool own_cgroup2, const CgroupLimits& limits, bool watch_launcher) {
  const CgroupLayout layout = CgroupLayout::Read();
  RemoveAbandonedEverywhere(layout);
  std::unique_ptr<SandboxCgroup> cgroup(new SandboxCgroup("", UniqueFd()));
  if (own_cgroup2) {
    absl::StatusOr<std::optional<CgroupHierarchy>> cgroup2 = layout.Cgroup2();
    if (!cgroup2.ok()) return cgroup2.status();
    if (cgroup2->has_value()) {
      absl::StatusOr<std::unique_ptr<SandboxCgroup>> made = MakeIn(
          **cgroup2, watch_launcher,
          "the sandbox needs a cgroup of its own below tokenbox's, so that cgroup programs "
          "attach only to it: run tokenbox where root may make cgroups there, or give "
          "--share-cgroup (which refuses cgroup program types)");
      if (!made.ok()) return made.status();
      cgroup = *std::move(made);
    }
  }
  // Kernel memory is charged with the rest: BPF maps count (memory.max in v2; in v1
  // memory.limit_in_bytes, which kernel memory is charged to as well).
  if (limits.memory_max.has_value()) {
    const std::string bytes = absl::StrCat(*limits.memory_max);
    if (absl::Status s = cgroup->Limit(layout, "memory", {{"memory.limit_in_bytes", bytes}},
                                       {{"memory.max", bytes}}, watch_launcher);
        !s.ok()) {
      return s;
    }
  }
  if (limits.pids_max.has_value()) {
    const LimitFiles files = {{"pids.max", absl::StrCat(*limits.pids_max)}};
    if (absl::Status s = cgroup->Limit(layout, "pids", files, files, watch_launcher); !s.ok()) return s;
  }
  if (limits.cpu_percent.has_value()) {
    constexpr uint64_t kPeriodMicroseconds = 100000;
    const uint64_t quota = uint64_t{*limits.cpu_percent} * kPeriodMicroseconds / 100;
    if (absl::Status s = cgroup->Limit(
            layout, "cpu",
            {{"cpu.cfs_period_us", absl::StrCat(kPeriodMicroseconds)},
             {"cpu.cfs_quota_us", absl::StrCat(quota)}},
            {{"cpu.max", absl::StrCat(quota, " ", kPeriodMicroseconds)}}, watch_launcher);
        !s.ok()) {
      return s;
    }
  }
  if (!cgroup->dir_ && cgroup->companions_.empty()) return std::shared_ptr<const SandboxCgroup>();
  return std::shared_ptr<const SandboxCgroup>(std::move(cgroup));
}

std::vector<int> SandboxCgroup::dir_fds() const {
  std::vector<int> fds;
  if (dir_) fds.push_back(dir_.get());
  for (const std::unique_ptr<SandboxCgroup>& companion : companions_) {
    fds.push_back(companion->dir_.get());
  }
  return fds;
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
  if (!path_.empty()) {
    const size_t slash = path_.rfind('/');
    UniqueFd parent(open(path_.substr(0, slash).c_str(), O_DIRECTORY | O_CLOEXEC));
    if (parent) (void)RemoveCgroup(parent.get(), path_.substr(slash + 1));
  }
  // companions_, each removed likewise, and watcher_, dismissed, after this.
}

}  // namespace tokenbox
