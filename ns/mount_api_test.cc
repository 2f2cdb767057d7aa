#include "ns/mount_api.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/mount_namespace.h"
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

// A fresh directory under the test's temporary directory.
std::string MakeTempDir() {
  const char* base = getenv("TEST_TMPDIR");
  std::string templ = absl::StrCat(base != nullptr ? base : "/tmp", "/tokenbox-XXXXXX");
  REQUIRE(mkdtemp(templ.data()) != nullptr);
  return templ;
}

TEST_CASE("A bpffs created with fsopen/fsconfig/fsmount appears in a private mount namespace only") {
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

TEST_CASE("fspick on a path that does not exist fails with ENOENT") {
  TB_REQUIRE_PRIVILEGE();
  auto picked = FsPick(AT_FDCWD, "/no/such/path/tokenbox");
  REQUIRE_FALSE(picked.ok());
  CHECK(ErrnoOf(picked.status()) == ENOENT);
}

}  // namespace
}  // namespace tokenbox
