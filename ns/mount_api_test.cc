#include "ns/mount_api.h"

#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"
#include "ns/id_map.h"
#include "ns/mount_namespace.h"
#include "ns/user_namespace.h"
#include "tests/test_support.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

namespace tokenbox {
namespace {

using ::tokenbox::testing::HasMountAt;

bool Contains(const absl::Status& status, absl::string_view needle) {
  return std::string(status.message()).find(std::string(needle)) != std::string::npos;
}

// A fresh directory under the test's temporary directory, by its canonical path: mountinfo
// shows mount points resolved, and HasMountAt compares text.
std::string MakeTempDir() {
  const char* base = getenv("TEST_TMPDIR");
  std::string templ = absl::StrCat(base != nullptr ? base : "/tmp", "/tokenbox-XXXXXX");
  REQUIRE(mkdtemp(templ.data()) != nullptr);
  char resolved[PATH_MAX];
  REQUIRE(realpath(templ.c_str(), resolved) != nullptr);
  return resolved;
}

// How the grandchild in SharedPeerSeesBpffs treats the mounts it inherited.
enum class InheritedMounts { kMadePrivate, kLeftShared };

// Message types between the processes of SharedPeerSeesBpffs.
constexpr uint32_t kBpffsAttached = 1;
constexpr uint32_t kPeerLooked = 2;
constexpr uint32_t kPeerObservation = 3;

// Whether a process that shares a mount with a new mount namespace sees a bpffs attached inside
// it. This machine's own mounts are private, so the host cannot show propagation; a helper child
// plays a host whose mounts are shared (as systemd makes them): in a mount namespace of its own
// (private first, so nothing here reaches the real host) it mounts a tmpfs at `dir` and marks it
// MS_SHARED. A grandchild then unshares its mount namespace, which puts its copy of that tmpfs in
// the helper's peer group, treats its inherited mounts as `mode` says, and attaches a fresh bpffs
// at dir/bpf. The helper looks at its own mountinfo while the grandchild still holds the mount,
// so that a mount that did reach it and was taken away again cannot pass for one that never did.
absl::StatusOr<bool> SharedPeerSeesBpffs(const std::string& dir, InheritedMounts mode) {
  const std::string target = dir + "/bpf";
  auto helper = [&](int test_sock) -> absl::Status {
    if (unshare(CLONE_NEWNS) != 0) return ErrnoStatus(errno, "unshare(CLONE_NEWNS)");
    if (absl::Status s = MakeMountsPrivate(); !s.ok()) return s;
    if (mount("tokenbox-peer", dir.c_str(), "tmpfs", 0, "mode=0755") != 0) {
      return ErrnoStatus(errno, absl::StrCat("mount(tmpfs, \"", dir, "\")"));
    }
    if (mount(nullptr, dir.c_str(), nullptr, MS_SHARED, nullptr) != 0) {
      return ErrnoStatus(errno, absl::StrCat("mount(\"", dir, "\", MS_SHARED)"));
    }
    if (mkdir(target.c_str(), 0700) != 0) {
      return ErrnoStatus(errno, absl::StrCat("mkdir(\"", target, "\")"));
    }
    bool helper_saw_it = false;
    absl::Status grandchild = RunInChild(
        [&](int sock) -> absl::Status {
          if (unshare(CLONE_NEWNS) != 0) return ErrnoStatus(errno, "unshare(CLONE_NEWNS)");
          if (mode == InheritedMounts::kMadePrivate) {
            if (absl::Status s = MakeMountsPrivate(); !s.ok()) return s;
          }
          auto fs = FsOpen("bpf");
          if (!fs.ok()) return fs.status();
          if (absl::Status s = FsConfigCreate(fs->get()); !s.ok()) return s;
          auto mnt = FsMount(fs->get());
          if (!mnt.ok()) return mnt.status();
          if (absl::Status s = AttachMount(mnt->get(), target); !s.ok()) return s;
          // Otherwise "the helper did not see it" would prove nothing.
          if (!HasMountAt(target, "bpf")) {
            return absl::InternalError("the grandchild does not see its own bpffs");
          }
          if (absl::Status s = SendFdMessage(sock, kBpffsAttached); !s.ok()) return s;
          // Keep the mount (and this namespace) alive until the helper has looked.
          return ReceiveExpectedMessage(sock, kPeerLooked, 0, absl::Seconds(10)).status();
        },
        [&](pid_t, int sock) -> absl::Status {
          auto attached = ReceiveExpectedMessage(sock, kBpffsAttached, 0, absl::Seconds(10));
          if (!attached.ok()) return attached.status();
          helper_saw_it = HasMountAt(target, "bpf");
          return SendFdMessage(sock, kPeerLooked);
        });
    if (!grandchild.ok()) return grandchild;
    return SendFdMessage(test_sock, kPeerObservation, helper_saw_it ? "seen" : "not seen");
  };
  std::string observation;
  absl::Status status = RunInChild(helper, [&](pid_t, int sock) -> absl::Status {
    auto message = ReceiveExpectedMessage(sock, kPeerObservation, 0, absl::Seconds(20));
    if (!message.ok()) return message.status();
    observation = message->payload;
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return observation == "seen";
}

TEST_CASE("A bpffs attached after MakeMountsPrivate never reaches a mount-sharing peer, even while "
          "it is mounted") {
  TB_REQUIRE_PRIVILEGE();
  const std::string dir = MakeTempDir();
  absl::StatusOr<bool> seen = SharedPeerSeesBpffs(dir, InheritedMounts::kMadePrivate);
  TB_CHECK_OK(seen);
  CHECK(seen.value_or(true) == false);
  CHECK_FALSE(HasMountAt(dir));  // Nor did the helper's tmpfs reach the real host.
  rmdir(dir.c_str());
}

// The control for the test above: the setup does propagate a mount when nothing stops it, so a
// MakeMountsPrivate that did nothing would fail that test.
TEST_CASE("Without MakeMountsPrivate the same bpffs does reach the mount-sharing peer") {
  TB_REQUIRE_PRIVILEGE();
  const std::string dir = MakeTempDir();
  absl::StatusOr<bool> seen = SharedPeerSeesBpffs(dir, InheritedMounts::kLeftShared);
  TB_CHECK_OK(seen);
  CHECK(seen.value_or(false) == true);
  CHECK_FALSE(HasMountAt(dir));
  rmdir(dir.c_str());
}

TEST_CASE("MakeMountsPrivate without CAP_SYS_ADMIN over the mount namespace fails with EPERM") {
  TB_REQUIRE_PRIVILEGE();
  absl::Status status = testing::RunInChild([]() -> absl::Status {
    // A new user namespace alone: full capabilities in it, none over the host's mount namespace,
    // which the initial user namespace still owns.
    if (unshare(CLONE_NEWUSER) != 0) return ErrnoStatus(errno, "unshare(CLONE_NEWUSER)");
    return MakeMountsPrivate();
  });
  CHECK(ErrnoOf(status) == EPERM);
  CHECK(Contains(status, "mount(\"/\", MS_REC|MS_PRIVATE): EPERM"));
  CHECK(Contains(status,
                 "needs CAP_SYS_ADMIN in the user namespace that owns this mount namespace"));
}

TEST_CASE("A bpffs created with fsopen/fsconfig/fsmount and attached is a bpffs with the "
          "configured mode") {
  TB_REQUIRE_PRIVILEGE();
  const std::string target = MakeTempDir();
  absl::Status inside = testing::RunInChild([&]() -> absl::Status {
    if (unshare(CLONE_NEWNS) != 0) return ErrnoStatus(errno, "unshare(CLONE_NEWNS)");
    if (absl::Status s = MakeMountsPrivate(); !s.ok()) return s;
    auto fs = FsOpen("bpf");
    if (!fs.ok()) return fs.status();
    if (absl::Status s = FsConfigSetString(fs->get(), "mode", "0700"); !s.ok()) return s;
    if (absl::Status s = FsConfigCreate(fs->get()); !s.ok()) return s;
    auto mnt = FsMount(fs->get());
    if (!mnt.ok()) return mnt.status();
    if (absl::Status s = AttachMount(mnt->get(), target); !s.ok()) return s;
    if (!HasMountAt(target, "bpf")) return absl::InternalError("no bpf mount in mountinfo");
    struct statfs fs_info;
    if (statfs(target.c_str(), &fs_info) != 0 || fs_info.f_type != BPF_FS_MAGIC) {
      return absl::InternalError("target is not a bpffs");
    }
    auto root = OpenMountRoot(mnt->get());
    if (!root.ok()) return root.status();
    struct stat st;
    // bpffs always adds the sticky bit to its root.
    if (fstat(root->get(), &st) != 0 || (st.st_mode & 07777) != 01700) {
      return absl::InternalError("bpffs root does not have the configured mode 0700");
    }
    return absl::OkStatus();
  });
  TB_CHECK_OK(inside);
  CHECK_FALSE(HasMountAt(target));
  rmdir(target.c_str());
}

TEST_CASE("fsopen of an unknown filesystem fails with ENODEV and says so") {
  TB_REQUIRE_PRIVILEGE();
  auto fs = FsOpen("no_such_fs");
  REQUIRE_FALSE(fs.ok());
  CHECK(ErrnoOf(fs.status()) == ENODEV);
  CHECK(Contains(fs.status(), "fsopen(\"no_such_fs\"): ENODEV"));
}

TEST_CASE("fsconfig with an unknown key fails with EINVAL and quotes the kernel's reason") {
  TB_REQUIRE_PRIVILEGE();
  auto fs = FsOpen("tmpfs");
  TB_REQUIRE_OK(fs);
  absl::Status status = FsConfigSetString(fs->get(), "no_such_key", "1");
  CHECK(ErrnoOf(status) == EINVAL);
  CHECK(Contains(status, "fsconfig(FSCONFIG_SET_STRING, no_such_key=\"1\"): EINVAL"));
  CHECK(Contains(status, "[kernel: "));
  CHECK(Contains(status, "no_such_key"));
}

// This is why token support must be probed with a bad delegate value, never with a bad key.
TEST_CASE("bpffs silently accepts an unknown key") {
  TB_REQUIRE_PRIVILEGE();
  auto fs = FsOpen("bpf");
  TB_REQUIRE_OK(fs);
  TB_CHECK_OK(FsConfigSetString(fs->get(), "no_such_key", "1"));
}

TEST_CASE("fsconfig with a bad bpffs mode fails with EINVAL and the kernel's reason") {
  TB_REQUIRE_PRIVILEGE();
  auto fs = FsOpen("bpf");
  TB_REQUIRE_OK(fs);
  absl::Status status = FsConfigSetString(fs->get(), "mode", "not_octal");
  CHECK(ErrnoOf(status) == EINVAL);
  CHECK(Contains(status, "[kernel: "));
  CHECK(Contains(status, "mode"));
}

TEST_CASE("fsconfig with a bad delegate value fails with EINVAL") {
  TB_REQUIRE_PRIVILEGE();
  auto fs = FsOpen("bpf");
  TB_REQUIRE_OK(fs);
  absl::Status status = FsConfigSetString(fs->get(), "delegate_cmds", "no_such_cmd");
  CHECK(ErrnoOf(status) == EINVAL);
  CHECK(Contains(status, "delegate_cmds=\"no_such_cmd\""));
}

TEST_CASE("fsmount before FSCONFIG_CMD_CREATE fails with EINVAL") {
  TB_REQUIRE_PRIVILEGE();
  auto fs = FsOpen("bpf");
  TB_REQUIRE_OK(fs);
  auto mnt = FsMount(fs->get());
  REQUIRE_FALSE(mnt.ok());
  CHECK(ErrnoOf(mnt.status()) == EINVAL);
  CHECK(Contains(mnt.status(), "fsmount("));
}

TEST_CASE("move_mount to a path that does not exist fails with ENOENT") {
  TB_REQUIRE_PRIVILEGE();
  absl::Status status = testing::RunInChild([]() -> absl::Status {
    if (unshare(CLONE_NEWNS) != 0) return ErrnoStatus(errno, "unshare(CLONE_NEWNS)");
    if (absl::Status s = MakeMountsPrivate(); !s.ok()) return s;
    auto fs = FsOpen("bpf");
    if (!fs.ok()) return fs.status();
    if (absl::Status s = FsConfigCreate(fs->get()); !s.ok()) return s;
    auto mnt = FsMount(fs->get());
    if (!mnt.ok()) return mnt.status();
    return AttachMount(mnt->get(), "/no/such/dir/tokenbox");
  });
  CHECK(ErrnoOf(status) == ENOENT);
  CHECK(Contains(status, "move_mount(\"\" -> \"/no/such/dir/tokenbox\"): ENOENT"));
}

TEST_CASE("open_tree of a path that does not exist fails with ENOENT") {
  TB_REQUIRE_PRIVILEGE();
  auto tree = OpenTree(AT_FDCWD, "/no/such/path/tokenbox");
  REQUIRE_FALSE(tree.ok());
  CHECK(ErrnoOf(tree.status()) == ENOENT);
  CHECK(Contains(tree.status(), "open_tree(\"/no/such/path/tokenbox\"): ENOENT"));
}

TEST_CASE("open_tree clones a tree that can be attached elsewhere in a private namespace") {
  TB_REQUIRE_PRIVILEGE();
  const std::string target = MakeTempDir();
  absl::Status inside = testing::RunInChild([&]() -> absl::Status {
    if (unshare(CLONE_NEWNS) != 0) return ErrnoStatus(errno, "unshare(CLONE_NEWNS)");
    if (absl::Status s = MakeMountsPrivate(); !s.ok()) return s;
    auto tree = OpenTree(AT_FDCWD, "/proc", OPEN_TREE_CLONE);
    if (!tree.ok()) return tree.status();
    if (absl::Status s = AttachMount(tree->get(), target); !s.ok()) return s;
    if (access((target + "/self/status").c_str(), R_OK) != 0) {
      return absl::InternalError("the cloned /proc is not visible at the target");
    }
    return absl::OkStatus();
  });
  TB_CHECK_OK(inside);
  CHECK_FALSE(HasMountAt(target));
  rmdir(target.c_str());
}

// A tmpfs file owned by 1000 shows through the idmapped clone as 2000's, and a file 2000 creates
// through it lands as 1000's; ids the idmapping does not name show as nobody's.
TEST_CASE("An idmapped clone shows one id as another, and writes land as the first") {
  TB_REQUIRE_PRIVILEGE();
  const std::string dir = MakeTempDir();
  absl::Status inside = testing::RunInChild([&]() -> absl::Status {
    if (unshare(CLONE_NEWNS) != 0) return ErrnoStatus(errno, "unshare(CLONE_NEWNS)");
    if (absl::Status s = MakeMountsPrivate(); !s.ok()) return s;
    if (mount("tmpfs", dir.c_str(), "tmpfs", 0, "mode=0755") != 0) return ErrnoStatus(errno, "mount");
    const std::string owned = dir + "/owned", stranger = dir + "/stranger";
    if (mkdir(owned.c_str(), 0700) != 0 || chown(owned.c_str(), 1000, 1000) != 0 ||
        mkdir(stranger.c_str(), 0700) != 0 || chown(stranger.c_str(), 1234, 1234) != 0) {
      return ErrnoStatus(errno, "mkdir/chown");
    }
    auto uids = IdMap::Single(1000, 2000);
    auto gids = IdMap::Single(1000, 2000);
    if (!uids.ok() || !gids.ok()) return absl::InternalError("IdMap::Single");
    absl::StatusOr<UniqueFd> idmapping = MakeIdmappingNamespace(*uids, *gids);
    if (!idmapping.ok()) return idmapping.status();
    auto tree = OpenTree(AT_FDCWD, dir, OPEN_TREE_CLONE);
    if (!tree.ok()) return tree.status();
    if (absl::Status s = IdmapMount(tree->get(), idmapping->get()); !s.ok()) return s;
    const std::string view = dir + "/owned";  // Attached over a directory of the same tmpfs.
    if (absl::Status s = AttachMount(tree->get(), view); !s.ok()) return s;
    struct stat st;
    if (stat((view + "/owned").c_str(), &st) != 0) return ErrnoStatus(errno, "stat(owned)");
    if (st.st_uid != 2000 || st.st_gid != 2000) {
      return absl::InternalError(absl::StrCat("owned shows as ", st.st_uid, ":", st.st_gid));
    }
    if (stat((view + "/stranger").c_str(), &st) != 0) return ErrnoStatus(errno, "stat(stranger)");
    if (st.st_uid != 65534) return absl::InternalError(absl::StrCat("stranger shows as ", st.st_uid));
    // As 2000, through the idmapped view (entered first: the test's directory above is root's):
    // the new file is 1000's underneath.
    const pid_t writer = fork();
    if (writer == 0) {
      if (chdir(view.c_str()) != 0) _exit(4);
      if (setresgid(2000, 2000, 2000) != 0 || setresuid(2000, 2000, 2000) != 0) _exit(2);
      const int fd = open("owned/new", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
      _exit(fd >= 0 ? 0 : 3);
    }
    int status = 0;
    waitpid(writer, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return absl::InternalError(absl::StrCat("2000 could not create a file: ", status));
    }
    tree->Reset();  // An open fd on the mount keeps it busy.
    if (umount2(view.c_str(), 0) != 0) return ErrnoStatus(errno, "umount2");
    if (stat((owned + "/new").c_str(), &st) != 0) return ErrnoStatus(errno, "stat(new)");
    if (st.st_uid != 1000 || st.st_gid != 1000) {
      return absl::InternalError(absl::StrCat("new is ", st.st_uid, ":", st.st_gid, " underneath"));
    }
    return absl::OkStatus();
  });
  TB_CHECK_OK(inside);
  CHECK_FALSE(HasMountAt(dir));
  rmdir(dir.c_str());
}

// Its maps are exactly those given: a process that enters it reads them back.
TEST_CASE("An idmapping namespace maps what it was given, and nothing else") {
  TB_REQUIRE_PRIVILEGE();
  auto uids = IdMap::Single(1000, 2000);
  auto gids = IdMap::Single(1001, 2001);
  REQUIRE(uids.ok());
  REQUIRE(gids.ok());
  absl::StatusOr<UniqueFd> idmapping = MakeIdmappingNamespace(*uids, *gids);
  TB_REQUIRE_OK(idmapping.status());
  CHECK(ioctl(idmapping->get(), NS_GET_NSTYPE) == CLONE_NEWUSER);
  absl::Status entered = testing::RunInChild([&]() -> absl::Status {
    if (setns(idmapping->get(), CLONE_NEWUSER) != 0) return ErrnoStatus(errno, "setns");
    const std::string uid_map = testing::ReadProcFile("/proc/self/uid_map");
    const std::string gid_map = testing::ReadProcFile("/proc/self/gid_map");
    if (absl::StrReplaceAll(uid_map, {{" ", ""}}) != "100020001\n" ||
        absl::StrReplaceAll(gid_map, {{" ", ""}}) != "100120011\n") {
      return absl::InternalError(absl::StrCat("maps: ", uid_map, gid_map));
    }
    return absl::OkStatus();
  });
  TB_CHECK_OK(entered);
}

TEST_CASE("fspick on a path that does not exist fails with ENOENT") {
  TB_REQUIRE_PRIVILEGE();
  auto picked = FsPick(AT_FDCWD, "/no/such/path/tokenbox");
  REQUIRE_FALSE(picked.ok());
  CHECK(ErrnoOf(picked.status()) == ENOENT);
  CHECK(Contains(picked.status(), "fspick(\"/no/such/path/tokenbox\"): ENOENT"));
}

TEST_CASE("fsconfig with an unknown flag fails with EINVAL and quotes the kernel's reason") {
  TB_REQUIRE_PRIVILEGE();
  auto fs = FsOpen("tmpfs");
  TB_REQUIRE_OK(fs);
  absl::Status status = FsConfigSetFlag(fs->get(), "no_such_flag");
  CHECK(ErrnoOf(status) == EINVAL);
  CHECK(Contains(status, "fsconfig(FSCONFIG_SET_FLAG, no_such_flag): EINVAL"));
  CHECK(Contains(status, "[kernel: e tmpfs: Unknown parameter 'no_such_flag']"));
}

TEST_CASE("fsconfig sets a bpffs option that needs a value as a flag: EINVAL") {
  TB_REQUIRE_PRIVILEGE();
  auto fs = FsOpen("bpf");
  TB_REQUIRE_OK(fs);
  absl::Status status = FsConfigSetFlag(fs->get(), "mode");
  CHECK(ErrnoOf(status) == EINVAL);
  CHECK(Contains(status, "fsconfig(FSCONFIG_SET_FLAG, mode): EINVAL"));
  CHECK(Contains(status, "[kernel: e bpf: Bad value for 'mode']"));
}

TEST_CASE("FSCONFIG_CMD_CREATE on a context already created fails with EBUSY and names the fd") {
  TB_REQUIRE_PRIVILEGE();
  auto fs = FsOpen("bpf");
  TB_REQUIRE_OK(fs);
  TB_REQUIRE_OK(FsConfigCreate(fs->get()));
  absl::Status again = FsConfigCreate(fs->get());
  CHECK(ErrnoOf(again) == EBUSY);
  CHECK(Contains(again,
                 absl::StrCat("fsconfig(fs_fd ", fs->get(), ", FSCONFIG_CMD_CREATE): EBUSY")));
  CHECK(Contains(again, "already created"));
}

// The launcher's split in miniature: a context opened in one user namespace can only be created
// by a process with CAP_SYS_ADMIN over that namespace, wherever the fd travels.
TEST_CASE("FSCONFIG_CMD_CREATE by a process that left the context's user namespace fails with "
          "EPERM") {
  TB_REQUIRE_PRIVILEGE();
  absl::Status status = testing::RunInChild([]() -> absl::Status {
    auto fs = FsOpen("bpf");  // Opened as root in the initial user namespace.
    if (!fs.ok()) return fs.status();
    if (unshare(CLONE_NEWUSER) != 0) return ErrnoStatus(errno, "unshare(CLONE_NEWUSER)");
    return FsConfigCreate(fs->get());
  });
  CHECK(ErrnoOf(status) == EPERM);
  CHECK(Contains(status, ", FSCONFIG_CMD_CREATE): EPERM"));
  CHECK(Contains(status, "needs CAP_SYS_ADMIN over the user namespace the context was opened in"));
}

TEST_CASE("mount_setattr on a path that does not exist fails with ENOENT and names the change") {
  TB_REQUIRE_PRIVILEGE();
  absl::Status status =
      MountSetAttr(AT_FDCWD, "/no/such/path/tokenbox", 0, MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID);
  CHECK(ErrnoOf(status) == ENOENT);
  CHECK(Contains(status, "mount_setattr(\"/no/such/path/tokenbox\", set 0x1, clear 0x2): ENOENT"));
}

TEST_CASE("mount_setattr with an attribute the kernel does not know fails with EINVAL") {
  TB_REQUIRE_PRIVILEGE();
  // The kernel checks the attributes before it looks the path up; a path that does not exist
  // still keeps this test from ever changing a real mount.
  constexpr uint64_t kNoSuchAttribute = uint64_t{1} << 40;
  absl::Status status = MountSetAttr(AT_FDCWD, "/no/such/path/tokenbox", 0, kNoSuchAttribute, 0);
  CHECK(ErrnoOf(status) == EINVAL);
  CHECK(Contains(status,
                 "mount_setattr(\"/no/such/path/tokenbox\", set 0x10000000000, clear 0x0): "
                 "EINVAL"));
}

}  // namespace
}  // namespace tokenbox
