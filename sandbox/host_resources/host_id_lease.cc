#include "sandbox/host_resources/host_id_lease.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/list_directory.h"

namespace tokenbox {
namespace {

// What the killer reports with its exit code, when it does not get as far as the kill.
enum KillerExit { kKilled = 0, kSetresuidFailed = 10, kCapsetFailed, kKillFailed };

// A vfork()ed helper that becomes `uid`, holds no capability, and sends SIGKILL to everything
// that uid may signal. Raw syscalls only: it shares the caller's memory until it exits, and
// glibc's setresuid() would try to change every thread of the caller.
pid_t StartKiller(uint32_t uid) {
  pid_t pid = vfork();
  if (pid != 0) return pid;
  if (syscall(SYS_setresuid, uid, uid, uid) != 0) _exit(kSetresuidFailed);
  // Dropped already by the change from uid 0, unless the caller set SECBIT_KEEP_CAPS or
  // SECBIT_NO_SETUID_FIXUP: with CAP_KILL the kill below would reach every process.
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capset, &header, none) != 0) _exit(kCapsetFailed);
  if (syscall(SYS_kill, -1, SIGKILL) != 0 && errno != ESRCH) _exit(kKillFailed);
  _exit(kKilled);
}

// The lock directory, made if missing; refused unless only its owner, root, can write it.
absl::StatusOr<UniqueFd> OpenLockDirectory() {
  constexpr absl::string_view kRemedy =
      "tokenbox keeps its host id leases there; it must be a directory of root's that no one "
      "else can write (remove it and let tokenbox make it again)";
  UniqueFd dir(open("/run", O_DIRECTORY | O_CLOEXEC));
  if (!dir) return ErrnoStatus(errno, "open(/run)", "tokenbox needs /run for its host id leases");
  for (const char* name : {"tokenbox", "host-ids"}) {
    if (mkdirat(dir.get(), name, 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, absl::StrCat("mkdir(", name, ")"), kRemedy);
    }
    UniqueFd next(openat(dir.get(), name, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) return ErrnoStatus(errno, absl::StrCat("open(", name, ")"), kRemedy);
    struct stat st;
    if (fstat(next.get(), &st) != 0) return ErrnoStatus(errno, "fstat(lock directory)", kRemedy);
    if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          HostIdLease::kHostIdLockDirectory, ": ", name, " is owned by uid ", st.st_uid,
          " with mode 0", absl::Hex(st.st_mode & 07777), ": ", kRemedy));
    }
    dir = std::move(next);
  }
  return dir;
}

constexpr absl::string_view kLeaseRemedy =
    "tokenbox keeps its host id leases under /run/tokenbox/host-ids, which must be a directory "
    "of root's on a file system that supports flock (or give --uid)";

uint32_t RandomNumber() {
  uint32_t value = 0;
  if (getrandom(&value, sizeof(value), GRND_NONBLOCK) != sizeof(value)) {
    value = static_cast<uint32_t>(getpid()) * 2654435761u;
  }
  return value;
}

// Removes a few lock files that no one holds: those of launchers that were SIGKILLed, which
// could not. The protocol is a holder's: lock, unlink, unlock, so that whoever opened the file
// before the unlink finds its lock on a removed file and takes the id anew.
void RemoveAbandonedLeases(int dir_fd, uint32_t random) {
  // A bound on the files looked at, so that a launch pays little, however many sandboxes run.
  // The window starts at a random entry: from the first, a run of held leases ahead of an
  // abandoned file (a busy test runner's) would hide that file from every launch.
  constexpr size_t kLooksPerAcquire = 16;
  const std::vector<DirectoryEntry> entries = ListDirectory(dir_fd);
  const size_t looks = std::min(kLooksPerAcquire, entries.size());
  for (size_t i = 0; i < looks; ++i) {
    const DirectoryEntry& entry = entries[(random + i) % entries.size()];
    if (entry.type != DT_REG) continue;
    UniqueFd lock(openat(dir_fd, entry.name.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
    if (!lock || flock(lock.get(), LOCK_EX | LOCK_NB) != 0) continue;
    (void)unlinkat(dir_fd, entry.name.c_str(), 0);
  }
}

}  // namespace

bool IsLeasedHostId(uint32_t uid) {
  return uid >= HostIdLease::kFirstId && uid - HostIdLease::kFirstId < HostIdLease::kIdCount;
}

absl::StatusOr<std::shared_ptr<const HostIdLease>> HostIdLease::Acquire(bool sweep_on_release,
                                                                        bool watch_launcher) {
  absl::StatusOr<UniqueFd> dir = OpenLockDirectory();
  if (!dir.ok()) return dir.status();
  const uint32_t random = RandomNumber();
  const uint32_t start = random % kIdCount;
  for (uint32_t i = 0; i < kIdCount; ++i) {
    const uint32_t id = kFirstId + (start + i) % kIdCount;
    const std::string name = absl::StrCat(id);
    UniqueFd lock(openat(dir->get(), name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                         0600));
    if (!lock) {
      return ErrnoStatus(errno, absl::StrCat("open(", kHostIdLockDirectory, "/", name, ")"),
                         kLeaseRemedy);
    }
    if (flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) continue;  // Another sandbox's.
      return ErrnoStatus(errno, absl::StrCat("flock(", kHostIdLockDirectory, "/", name, ")"),
                         kLeaseRemedy);
    }
    // A holder removes its file before it drops the lock: a lock taken on a removed file is
    // no lease, since someone may already hold a new file of the same name.
    struct stat st;
    if (fstat(lock.get(), &st) != 0) return ErrnoStatus(errno, "fstat(host id lock)", kLeaseRemedy);
    if (st.st_nlink == 0) {
      --i;  // The same id again, through its new file.
      continue;
    }
    RemoveAbandonedLeases(dir->get(), random);  // Ours is locked, and stays.
    const std::string path = absl::StrCat(kHostIdLockDirectory, "/", name);
    std::unique_ptr<LauncherWatcher> watcher;
    if (watch_launcher) {
      // The watcher's copy of the lock (fd 1 there) keeps the id ours until it has swept: a
      // sandbox that leased it meanwhile would be swept too.
      absl::StatusOr<std::unique_ptr<LauncherWatcher>> started =
          LauncherWatcher::Start({lock.get()}, [id, path] {
            (void)KillEveryProcessOf(id);
            (void)unlink(path.c_str());
          });
      if (!started.ok()) {
        (void)unlink(path.c_str());
        return started.status();
      }
      watcher = *std::move(started);
    }
    std::shared_ptr<HostIdLease> lease(
        new HostIdLease(id, std::move(lock), path, sweep_on_release));
    lease->watcher_ = std::move(watcher);
    return std::shared_ptr<const HostIdLease>(std::move(lease));
  }
  return absl::ResourceExhaustedError(absl::StrCat(
      "all ", kIdCount, " host ids that tokenbox leases (", kFirstId, "-",
      kFirstId + kIdCount - 1, ") are taken by running sandboxes: end some, or give --uid"));
}

HostIdLease::~HostIdLease() {
  // Best effort: should the sweep fail, the next sandbox to take the id sweeps before it starts.
  if (sweep_on_release_) (void)KillEveryProcessOf(id_);
  (void)unlink(path_.c_str());
}

absl::Status KillEveryProcessOf(uint32_t uid) {
  if (!IsLeasedHostId(uid)) {
    return absl::InvalidArgumentError(
        absl::StrCat("uid ", uid, " is not a host id tokenbox leases; it will not end its processes"));
  }
  // A process of the uid can kill a killer before its kill(-1): try again, a bounded number of
  // times.
  constexpr int kAttempts = 100;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    pid_t pid = StartKiller(uid);
    if (pid < 0) return ErrnoStatus(errno, "vfork");
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) return ErrnoStatus(errno, "waitpid(killer)");
    }
    if (WIFSIGNALED(status)) continue;
    switch (WEXITSTATUS(status)) {
      case kKilled: return absl::OkStatus();
      case kSetresuidFailed: return absl::PermissionDeniedError(absl::StrCat(
          "setresuid(", uid, ") failed in the helper that ends the sandbox's processes"));
      case kCapsetFailed: return absl::PermissionDeniedError(
          "capset(none) failed in the helper that ends the sandbox's processes");
      default: return absl::InternalError(
          absl::StrCat("kill(-1, SIGKILL) as uid ", uid, " failed"));
    }
  }
  return absl::AbortedError(absl::StrCat("the helper that ends uid ", uid, "'s processes was ",
                                         "killed ", kAttempts, " times before it could"));
}

}  // namespace tokenbox
