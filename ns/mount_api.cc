#include "ns/mount_api.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "ns/errno_status.h"

namespace tokenbox {
namespace {

// The filesystem context keeps messages ("e bpf: Bad value for 'delegate_cmds'") that say why an
// fsconfig call failed; reading the context fd drains them one per read().
std::string ReadContextLog(int fs_fd) {
  std::string log;
  char line[512];
  for (int i = 0; i < 8; ++i) {
    ssize_t n = read(fs_fd, line, sizeof(line) - 1);
    if (n <= 0) break;
    absl::string_view text(line, static_cast<size_t>(n));
    absl::ConsumeSuffix(&text, "\n");
    absl::StrAppend(&log, log.empty() ? "" : "; ", text);
  }
  return log;
}

// `remedy` is what the caller can do about `err`; the kernel's own log line, when there is one,
// follows it.
absl::Status FsConfigError(int err, int fs_fd, const std::string& call,
                           absl::string_view remedy = {}) {
  std::string log = ReadContextLog(fs_fd);
  std::string detail(remedy);
  if (!log.empty()) absl::StrAppend(&detail, detail.empty() ? "" : " ", "[kernel: ", log, "]");
  return ErrnoStatus(err, call, detail);
}

absl::Status FsConfig(int fs_fd, unsigned int cmd, const char* key, const char* value,
                      std::string call) {
  if (syscall(SYS_fsconfig, fs_fd, cmd, key, value, 0) != 0) {
    return FsConfigError(errno, fs_fd, std::move(call));
  }
  return absl::OkStatus();
}

// Paths come from users: a long or binary one must not swamp or garble the message.
std::string Quoted(absl::string_view s) { return absl::StrCat("\"", Printable(s, 256), "\""); }

}  // namespace

absl::StatusOr<UniqueFd> FsOpen(absl::string_view fs_name) {
  std::string name(fs_name);
  int fd = static_cast<int>(syscall(SYS_fsopen, name.c_str(), FSOPEN_CLOEXEC));
  if (fd < 0) {
    int err = errno;
    return ErrnoStatus(err, absl::StrCat("fsopen(", Quoted(name), ")"),
                       err == ENODEV  ? "the kernel does not know this filesystem type"
                       : err == EPERM ? "needs CAP_SYS_ADMIN over the caller's mount namespace"
                       : err == ENOSYS ? "the new mount API needs Linux >= 5.2"
                                       : "");
  }
  return UniqueFd(fd);
}

absl::Status FsConfigSetString(int fs_fd, absl::string_view key, absl::string_view value) {
  std::string k(key), v(value);
  return FsConfig(fs_fd, FSCONFIG_SET_STRING, k.c_str(), v.c_str(),
                  absl::StrCat("fsconfig(FSCONFIG_SET_STRING, ", k, "=", Quoted(v), ")"));
}

absl::Status FsConfigSetFlag(int fs_fd, absl::string_view key) {
  std::string k(key);
  return FsConfig(fs_fd, FSCONFIG_SET_FLAG, k.c_str(), nullptr,
                  absl::StrCat("fsconfig(FSCONFIG_SET_FLAG, ", k, ")"));
}

absl::Status FsConfigCreate(int fs_fd) {
  if (syscall(SYS_fsconfig, fs_fd, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) == 0) {
    return absl::OkStatus();
  }
  int err = errno;
  // A context fd does not say which filesystem it is for: its number is what ties this error to
  // the fsopen that made it.
  return FsConfigError(
      err, fs_fd, absl::StrCat("fsconfig(fs_fd ", fs_fd, ", FSCONFIG_CMD_CREATE)"),
      err == EBUSY   ? "this context was already created (or its create failed); fsopen a new one"
      : err == EPERM ? "needs CAP_SYS_ADMIN over the user namespace the context was opened in "
                       "(for a bpffs with delegate options: the initial user namespace)"
                     : "");
}

absl::StatusOr<UniqueFd> FsMount(int fs_fd, unsigned int attr_flags) {
  int fd = static_cast<int>(syscall(SYS_fsmount, fs_fd, FSMOUNT_CLOEXEC, attr_flags));
  if (fd < 0) {
    return FsConfigError(errno, fs_fd, absl::StrCat("fsmount(attr 0x", absl::Hex(attr_flags), ")"));
  }
  return UniqueFd(fd);
}

absl::StatusOr<UniqueFd> FsPick(int dirfd, absl::string_view path, unsigned int flags) {
  std::string p(path);
  int fd = static_cast<int>(syscall(SYS_fspick, dirfd, p.c_str(), FSPICK_CLOEXEC | flags));
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("fspick(", Quoted(p), ")"));
  return UniqueFd(fd);
}

absl::Status MoveMount(int from_dirfd, absl::string_view from_path, int to_dirfd,
                       absl::string_view to_path, unsigned int flags) {
  std::string from(from_path), to(to_path);
  if (syscall(SYS_move_mount, from_dirfd, from.c_str(), to_dirfd, to.c_str(), flags) != 0) {
    int err = errno;
    return ErrnoStatus(err,
                       absl::StrCat("move_mount(", Quoted(from), " -> ", Quoted(to), ")"),
                       err == ENOENT ? "the target path does not exist" : "");
  }
  return absl::OkStatus();
}

absl::Status AttachMount(int mount_fd, absl::string_view target) {
  return MoveMount(mount_fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH);
}

absl::StatusOr<UniqueFd> OpenTree(int dirfd, absl::string_view path, unsigned int flags) {
  std::string p(path);
  int fd = static_cast<int>(syscall(SYS_open_tree, dirfd, p.c_str(), OPEN_TREE_CLOEXEC | flags));
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("open_tree(", Quoted(p), ")"));
  return UniqueFd(fd);
}

absl::Status MountSetAttr(int dirfd, absl::string_view path, unsigned int flags,
                          uint64_t attr_set, uint64_t attr_clr) {
  std::string p(path);
  mount_attr attr = {};
  attr.attr_set = attr_set;
  attr.attr_clr = attr_clr;
  if (syscall(SYS_mount_setattr, dirfd, p.c_str(), flags, &attr, sizeof(attr)) != 0) {
    return ErrnoStatus(errno, absl::StrCat("mount_setattr(", Quoted(p), ", set 0x",
                                           absl::Hex(attr_set), ", clear 0x", absl::Hex(attr_clr),
                                           ")"));
  }
  return absl::OkStatus();
}

absl::Status IdmapMount(int tree_fd, int userns_fd) {
  mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns_fd);
  if (syscall(SYS_mount_setattr, tree_fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) != 0) {
    return ErrnoStatus(errno, "mount_setattr(MOUNT_ATTR_IDMAP)");
  }
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> OpenMountRoot(int mount_fd) {
  int fd = openat(mount_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "openat(mount fd, \".\", O_DIRECTORY)");
  return UniqueFd(fd);
}

}  // namespace tokenbox
