#include "sandbox/child/kernel_mounts.h"

#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/mount_namespace.h"

namespace tokenbox {

absl::Status MountProc(const std::vector<std::string>& mount_points) {
  for (const std::string& path : mount_points) {
    if (mount("proc", path.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
      return ErrnoStatus(errno, absl::StrCat("mount(proc, ", Printable(path, 256), ")"),
                         "the sandbox's /proc must be a directory it can mount on");
    }
  }
  return absl::OkStatus();
}

absl::Status MountOwnProc() {
  if (unshare(CLONE_NEWNS) != 0) {
    return ErrnoStatus(errno, "unshare(CLONE_NEWNS)", "check /proc/sys/user/max_mnt_namespaces");
  }
  if (absl::Status s = MakeMountsPrivate(); !s.ok()) return s;
  return MountProc({"/proc"});
}

absl::Status UnshareMountNamespaceForProc() {
  return ErrnoUnless(unshare(CLONE_NEWNS) == 0, "unshare(CLONE_NEWNS)",
                     "check /proc/sys/user/max_mnt_namespaces, or start the fork server without a "
                     "pid namespace");
}

absl::Status MountOwnDevpts() {
  struct stat st;
  if (stat("/dev/pts", &st) != 0 || !S_ISDIR(st.st_mode)) return absl::OkStatus();
  const std::string options =
      absl::StrCat("newinstance,ptmxmode=0666,mode=0620,max=", kMaxPseudoTerminals);
  return ErrnoUnless(mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                           options.c_str()) == 0,
                     "mount(devpts, /dev/pts, newinstance)",
                     "a security module may refuse mounts in user namespaces");
}

absl::Status MountCgroupView() {
  struct statfs fs;
  if (statfs("/sys/fs/cgroup", &fs) != 0) return absl::OkStatus();  // Nothing to hide.
  constexpr unsigned long kReadOnly = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;
  constexpr absl::string_view kRemedy = "a security module may refuse mounts in user namespaces";
  auto mount_cgroup2 = [&](const char* where) {
    const std::string call = absl::StrCat("mount(cgroup2, ", where, ")");
    return ErrnoUnless(mount("cgroup2", where, "cgroup2", kReadOnly, nullptr) == 0, call, kRemedy);
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
  return ErrnoUnless(
      mount(nullptr, "/sys/fs/cgroup", nullptr, MS_REMOUNT | MS_BIND | kReadOnly, nullptr) == 0,
      "mount(/sys/fs/cgroup, MS_REMOUNT | MS_RDONLY)", kRemedy);
}

}  // namespace tokenbox
