#include "sandbox/child/filesystem_view.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ns/errno_status.h"
#include "ns/mount_api.h"

namespace tokenbox {
namespace {

using Kind = MountOperation::Kind;

// Each private tmpfs may take a quarter of the machine's memory, as the host's /tmp would; the
// sandbox's memory cgroup, when it has one, is charged for what it writes there.
constexpr absl::string_view kTmpfsSize = "25%";

// The host's scratch places, each replaced by a tmpfs of the sandbox's own: what the program
// writes there is its own, and vanishes with it.
struct ScratchMount {
  const char* path;
  const char* mode;
};
constexpr ScratchMount kScratchMounts[] = {
    {"/tmp", "1777"}, {"/var/tmp", "1777"}, {"/dev/shm", "1777"}, {"/run", "755"}};

// The devices --dev makes, each bound from the host's.
constexpr const char* kDevices[] = {"null", "zero", "full", "random", "urandom", "tty"};

absl::StatusOr<uint64_t> MountIdOf(int fd) {
  struct statx stx;
  if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) != 0) {
    return ErrnoStatus(errno, "statx(STATX_MNT_ID)");
  }
  return stx.stx_mnt_id;
}

bool IsMountRoot(int fd) {
  struct statx stx;
  return statx(fd, "", AT_EMPTY_PATH, 0, &stx) == 0 &&
         (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0 &&
         (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

// Builds the view below one root: the host's "/" or, for an empty root, a tmpfs on /tmp that
// becomes "/" at the end. It remembers which tmpfs mounts are the sandbox's own: the only places
// where it makes a mount point that does not exist.
class ViewBuilder {
 public:
  absl::Status Start(bool empty_root, bool own_proc_mounted);
  absl::Status Apply(const MountOperation& op, UniqueFd source);
  // Makes `path` a directory if it is not there, quietly: the step that mounts there reports.
  void MakeMountPoint(const std::string& path) { (void)Open(path, Node::kDirectory); }
  absl::Status Finish();

 private:
  enum class Node { kExisting, kDirectory, kFile };

  // A fresh tmpfs mounted on `at`, one of the sandbox's own.
  absl::Status MountTmpfs(int at, absl::string_view mode, absl::string_view where);
  // `path` below the root, walked without following symlinks (one inside could lead anywhere
  // while the host's tree is still around). A missing component is made (a directory; the last
  // as `node` says) when its parent is one of the sandbox's tmpfs mounts.
  absl::StatusOr<UniqueFd> Open(const std::string& path, Node node);
  absl::Status MakeDev(const std::string& path);
  absl::Status RemountReadOnly(const std::string& path);
  absl::Status MakeSymlink(const std::string& target, const std::string& path);
  absl::Status MakeProcMountPoint(const std::string& path);

  bool empty_root_ = false;
  bool own_proc_mounted_ = false;
  UniqueFd root_;
  std::set<uint64_t> own_tmpfs_;
};

absl::Status ViewBuilder::MountTmpfs(int at, absl::string_view mode, absl::string_view where) {
  auto failed = [where](const absl::Status& status) {
    return AppendRemedy(status, absl::StrCat("mount tmpfs on ", where, " for the sandbox's view; "
                                             "a security module may refuse mounts in user "
                                             "namespaces"));
  };
  absl::StatusOr<UniqueFd> context = FsOpen("tmpfs");
  if (!context.ok()) return failed(context.status());
  for (auto [key, value] : {std::pair{"mode", mode}, std::pair{"size", kTmpfsSize}}) {
    if (absl::Status s = FsConfigSetString(context->get(), key, value); !s.ok()) return failed(s);
  }
  if (absl::Status s = FsConfigCreate(context->get()); !s.ok()) return failed(s);
  absl::StatusOr<UniqueFd> mount = FsMount(context->get(), MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
  if (!mount.ok()) return failed(mount.status());
  absl::StatusOr<uint64_t> id = MountIdOf(mount->get());
  if (!id.ok()) return failed(id.status());
  if (absl::Status s = MoveMount(mount->get(), "", at, "",
                                 MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
      !s.ok()) {
    return failed(s);
  }
  own_tmpfs_.insert(*id);
  return absl::OkStatus();
}

absl::Status ViewBuilder::Start(bool empty_root, bool own_proc_mounted) {
  empty_root_ = empty_root;
  own_proc_mounted_ = own_proc_mounted;
  if (empty_root) {
    // Any directory will do as the place to build the new root; the host's tree stays reachable
    // meanwhile, for the devices --dev binds in.
    UniqueFd at(open("/tmp", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!at) return ErrnoStatus(errno, "open(/tmp)", "an empty root is built on the host's /tmp");
    if (absl::Status s = MountTmpfs(at.get(), "755", "the empty root"); !s.ok()) return s;
    root_ = UniqueFd(open("/tmp", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!root_) return ErrnoStatus(errno, "open(/tmp)");
    return absl::OkStatus();
  }
  root_ = UniqueFd(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_) return ErrnoStatus(errno, "open(/)");
  if (absl::Status s = MountSetAttr(AT_FDCWD, "/", AT_RECURSIVE, MOUNT_ATTR_RDONLY, 0); !s.ok()) {
    return s;
  }
  // The sandbox's own proc is as writable as a proc it mounted itself would be.
  if (own_proc_mounted) {
    if (absl::Status s = MountSetAttr(AT_FDCWD, "/proc", 0, 0, MOUNT_ATTR_RDONLY); !s.ok()) {
      return s;
    }
  }
  for (const ScratchMount& scratch : kScratchMounts) {
    UniqueFd at(open(scratch.path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!at) continue;  // The host has no such place: neither does the sandbox.
    if (absl::Status s = MountTmpfs(at.get(), scratch.mode, scratch.path); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> ViewBuilder::Open(const std::string& path, Node node) {
  const std::string shown = Printable(path, 256);
  std::vector<std::string> names = absl::StrSplit(path, '/', absl::SkipEmpty());
  UniqueFd at(fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
  if (!at) return ErrnoStatus(errno, "fcntl(F_DUPFD_CLOEXEC)");
  std::string walked;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    const bool last = i + 1 == names.size();
    absl::StrAppend(&walked, "/", name);
    UniqueFd next(openat(at.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!next && errno == ENOENT && (!last || node != Node::kExisting)) {
      absl::StatusOr<uint64_t> parent = MountIdOf(at.get());
      if (!parent.ok()) return parent.status();
      if (own_tmpfs_.count(*parent) == 0) {
        return absl::NotFoundError(absl::StrCat(
            "mount point ", shown, ": ", Printable(walked, 256), " does not exist, and tokenbox "
            "makes mount points only in the sandbox's own tmpfs mounts, never on the host: "
            "add --tmpfs or --dir for a place above it"));
      }
      const bool file = last && node == Node::kFile;
      int made = file ? openat(at.get(), name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0444)
                      : mkdirat(at.get(), name.c_str(), 0755);
      if (made < 0) return ErrnoStatus(errno, absl::StrCat("make mount point ", Printable(walked, 256)));
      if (file) close(made);
      next = UniqueFd(openat(at.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    }
    if (!next) {
      return ErrnoStatus(errno, absl::StrCat("open(", Printable(walked, 256), ")"),
                         absl::StrCat(shown, " must exist inside the sandbox"));
    }
    struct stat st;
    if (fstat(next.get(), &st) != 0) return ErrnoStatus(errno, "fstat(mount point)");
    if (S_ISLNK(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "mount point ", shown, ": ", Printable(walked, 256), " is a symlink inside the sandbox; "
          "name the path it leads to"));
    }
    if (!last && !S_ISDIR(st.st_mode)) {
      return ErrnoStatus(ENOTDIR, absl::StrCat("open(", Printable(walked, 256), ")"),
                         absl::StrCat(shown, " must be below directories"));
    }
    at = std::move(next);
  }
  return at;
}

absl::Status ViewBuilder::MakeDev(const std::string& path) {
  // The devices first: the new tmpfs may cover the host's /dev, where they come from.
  std::vector<UniqueFd> devices;
  for (const char* device : kDevices) {
    absl::StatusOr<UniqueFd> tree = OpenTree(AT_FDCWD, absl::StrCat("/dev/", device),
                                             OPEN_TREE_CLONE);
    if (!tree.ok()) return AppendRemedy(tree.status(), "--dev binds the host's devices");
    devices.push_back(*std::move(tree));
  }
  absl::StatusOr<UniqueFd> at = Open(path, Node::kDirectory);
  if (!at.ok()) return at.status();
  if (absl::Status s = MountTmpfs(at->get(), "755", path); !s.ok()) return s;
  for (size_t i = 0; i < devices.size(); ++i) {
    const std::string device = absl::StrCat(path, "/", kDevices[i]);
    absl::StatusOr<UniqueFd> node = Open(device, Node::kFile);
    if (!node.ok()) return node.status();
    if (absl::Status s = MoveMount(devices[i].get(), "", node->get(), "",
                                   MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
        !s.ok()) {
      return s;
    }
  }
  absl::StatusOr<UniqueFd> dev = Open(path, Node::kExisting);
  if (!dev.ok()) return dev.status();
  // pts is where the sandbox's own devpts goes (a later step); ptmx opens the pts next to it.
  if (mkdirat(dev->get(), "pts", 0755) != 0) return ErrnoStatus(errno, "mkdir(pts)");
  if (mkdirat(dev->get(), "shm", 01777) != 0 || fchmodat(dev->get(), "shm", 01777, 0) != 0) {
    return ErrnoStatus(errno, "mkdir(shm)");
  }
  for (auto [target, name] : {std::pair{"pts/ptmx", "ptmx"}, std::pair{"/proc/self/fd", "fd"},
                              std::pair{"/proc/self/fd/0", "stdin"},
                              std::pair{"/proc/self/fd/1", "stdout"},
                              std::pair{"/proc/self/fd/2", "stderr"}}) {
    if (symlinkat(target, dev->get(), name) != 0) {
      return ErrnoStatus(errno, absl::StrCat("symlink(", name, ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status ViewBuilder::RemountReadOnly(const std::string& path) {
  absl::StatusOr<UniqueFd> at = Open(path, Node::kExisting);
  if (!at.ok()) return at.status();
  if (IsMountRoot(at->get())) {
    return MountSetAttr(at->get(), "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY, 0);
  }
  // Not a mount of its own: a read-only bind of it, over it, as bubblewrap does.
  absl::StatusOr<UniqueFd> clone =
      OpenTree(at->get(), "", OPEN_TREE_CLONE | AT_RECURSIVE | AT_EMPTY_PATH);
  if (!clone.ok()) return clone.status();
  if (absl::Status s = MountSetAttr(clone->get(), "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY, 0);
      !s.ok()) {
    return s;
  }
  return MoveMount(clone->get(), "", at->get(), "",
                   MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

absl::Status ViewBuilder::MakeSymlink(const std::string& target, const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const std::string parent_path = slash == 0 ? "/" : path.substr(0, slash);
  const std::string name = path.substr(slash + 1);
  absl::StatusOr<UniqueFd> parent = Open(parent_path, Node::kDirectory);
  if (!parent.ok()) return parent.status();
  // An existing link with the same text is fine, as in bubblewrap.
  char existing[4096];
  ssize_t length = readlinkat(parent->get(), name.c_str(), existing, sizeof(existing));
  if (length >= 0 && absl::string_view(existing, static_cast<size_t>(length)) == target) {
    return absl::OkStatus();
  }
  absl::StatusOr<uint64_t> id = MountIdOf(parent->get());
  if (!id.ok()) return id.status();
  if (own_tmpfs_.count(*id) == 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "symlink ", Printable(path, 256), ": ", Printable(parent_path, 256), " is not one of the "
        "sandbox's own tmpfs mounts, and tokenbox never writes to the host: add --tmpfs or --dir "
        "for a place above it"));
  }
  if (symlinkat(target.c_str(), parent->get(), name.c_str()) != 0) {
    return ErrnoStatus(errno, absl::StrCat("symlink(", Printable(path, 256), ")"));
  }
  return absl::OkStatus();
}

absl::Status ViewBuilder::MakeProcMountPoint(const std::string& path) {
  absl::StatusOr<UniqueFd> at = Open(path, Node::kDirectory);
  if (!at.ok()) return at.status();
  // With the sandbox's own proc at /proc already (mounted before its user namespace existed),
  // that one is bound here. Otherwise the sandbox's pid 1 mounts its proc here after the view.
  // In a user namespace the kernel allows that only where a proc is already fully visible in
  // the mount namespace (mount_too_revealing()), and an empty root has none once the host's
  // tree is gone: the host's, bound here, is that one, covered by the sandbox's before the
  // program runs (and beyond its reach without CAP_SYS_ADMIN, as the host's tree is).
  if (!own_proc_mounted_ && !empty_root_) return absl::OkStatus();
  if (own_proc_mounted_ && !empty_root_ && path == "/proc") return absl::OkStatus();
  absl::StatusOr<UniqueFd> host_proc =
      OpenTree(AT_FDCWD, "/proc", OPEN_TREE_CLONE | AT_RECURSIVE);
  if (!host_proc.ok()) return host_proc.status();
  return MoveMount(host_proc->get(), "", at->get(), "",
                   MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

absl::Status ViewBuilder::Apply(const MountOperation& op, UniqueFd source) {
  switch (op.kind) {
    case Kind::kBind:
    case Kind::kReadOnlyBind: {
      struct stat st;
      if (fstat(source.get(), &st) != 0) return ErrnoStatus(errno, "fstat(bind source)");
      absl::StatusOr<UniqueFd> at =
          Open(op.destination, S_ISDIR(st.st_mode) ? Node::kDirectory : Node::kFile);
      if (!at.ok()) return at.status();
      return MoveMount(source.get(), "", at->get(), "",
                       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    }
    case Kind::kTmpfs: {
      absl::StatusOr<UniqueFd> at = Open(op.destination, Node::kDirectory);
      if (!at.ok()) return at.status();
      return MountTmpfs(at->get(), "755", op.destination);
    }
    case Kind::kDir:
      return Open(op.destination, Node::kDirectory).status();
    case Kind::kProc:
      return MakeProcMountPoint(op.destination);
    case Kind::kSymlink:
      return MakeSymlink(op.source, op.destination);
    case Kind::kDev:
      return MakeDev(op.destination);
    case Kind::kRemountReadOnly:
      return RemountReadOnly(op.destination);
  }
  return absl::InternalError("unknown mount operation");
}

absl::Status ViewBuilder::Finish() {
  if (!empty_root_) return absl::OkStatus();
  // pivot_root(".", ".") stacks the old root under the new one, where a lazy unmount removes
  // it: nothing of the host's tree stays reachable, not even through "..".
  if (fchdir(root_.get()) != 0) return ErrnoStatus(errno, "fchdir(new root)");
  if (syscall(SYS_pivot_root, ".", ".") != 0) return ErrnoStatus(errno, "pivot_root(., .)");
  // MNT_DETACH: <sys/mount.h>, which defines it, clashes with <linux/mount.h>.
  constexpr int kDetach = 2;
  if (syscall(SYS_umount2, ".", kDetach) != 0) {
    return ErrnoStatus(errno, "umount2(old root, MNT_DETACH)");
  }
  if (chdir("/") != 0) return ErrnoStatus(errno, "chdir(/)");
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyFilesystemView(const FilesystemView& view, std::vector<UniqueFd> bind_sources,
                                 const std::vector<std::string>& mount_points,
                                 bool own_proc_mounted) {
  ViewBuilder builder;
  if (absl::Status s = builder.Start(view.empty_root, own_proc_mounted); !s.ok()) return s;
  // Before the operations, while an empty root is still writable (--remount-ro / may follow),
  // and after them, in case one hid a mount point made before.
  for (const std::string& path : mount_points) builder.MakeMountPoint(path);
  for (size_t i = 0; i < view.operations.size(); ++i) {
    UniqueFd source = i < bind_sources.size() ? std::move(bind_sources[i]) : UniqueFd();
    if (absl::Status s = builder.Apply(view.operations[i], std::move(source)); !s.ok()) return s;
  }
  for (const std::string& path : mount_points) builder.MakeMountPoint(path);
  return builder.Finish();
}

std::vector<std::string> ProcMountPoints(const FilesystemView& view) {
  std::vector<std::string> points;
  if (!view.empty_root) points.push_back("/proc");
  for (const MountOperation& op : view.operations) {
    if (op.kind == Kind::kProc) points.push_back(op.destination);
  }
  return points;
}

}  // namespace tokenbox
