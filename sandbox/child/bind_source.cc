#include "sandbox/child/bind_source.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <deque>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ns/errno_status.h"
#include "ns/mount_api.h"

namespace tokenbox {
namespace {

void PushComponentsFront(absl::string_view path, std::deque<std::string>& components) {
  std::vector<std::string> parts = absl::StrSplit(path, '/', absl::SkipEmpty());
  components.insert(components.begin(), parts.begin(), parts.end());
}

bool IsBind(const MountOperation& op) {
  return op.kind == MountOperation::Kind::kBind || op.kind == MountOperation::Kind::kReadOnlyBind;
}

// A clone of the tree at `fd` (recursive: with the mounts below it), nosuid and nodev, and
// read-only for --ro-bind.
absl::StatusOr<UniqueFd> CloneSource(int fd, const MountOperation& op, bool recursive) {
  absl::StatusOr<UniqueFd> tree =
      OpenTree(fd, "", OPEN_TREE_CLONE | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0));
  if (!tree.ok()) {
    return AppendRemedy(tree.status(), absl::StrCat("the bind source ", Printable(op.source, 256),
                                                    " cannot be bound"));
  }
  const uint64_t attributes = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                              (op.kind == MountOperation::Kind::kReadOnlyBind ? MOUNT_ATTR_RDONLY : 0);
  if (absl::Status s = MountSetAttr(tree->get(), "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0),
                                    attributes, 0);
      !s.ok()) {
    return s;
  }
  return tree;
}

}  // namespace

absl::StatusOr<UniqueFd> OpenHostSource(const std::string& path) {
  const std::string shown = Printable(path, 256);
  UniqueFd at(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!at) return ErrnoStatus(errno, "open(/)");
  std::deque<std::string> rest;
  PushComponentsFront(path, rest);
  std::vector<std::string> walked;  // For messages: where the walk is.
  int links = 0;
  while (!rest.empty()) {
    const std::string name = rest.front();
    rest.pop_front();
    if (name == ".") continue;
    UniqueFd next(openat(at.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    const std::string here = absl::StrCat("/", absl::StrJoin(walked, "/"),
                                          walked.empty() ? "" : "/", name);
    if (!next) {
      return ErrnoStatus(errno, absl::StrCat("open(", Printable(here, 256), ")"),
                         absl::StrCat("the bind source ", shown, " must exist on the host"));
    }
    struct stat st;
    if (fstat(next.get(), &st) != 0) return ErrnoStatus(errno, "fstat(bind source)");
    if (!S_ISLNK(st.st_mode)) {
      if (name == "..") {
        if (!walked.empty()) walked.pop_back();
      } else {
        walked.push_back(name);
      }
      at = std::move(next);
      continue;
    }
    struct stat holder;
    if (fstat(at.get(), &holder) != 0) return ErrnoStatus(errno, "fstat(bind source)");
    if (holder.st_uid != 0 || (holder.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
      return absl::PermissionDeniedError(absl::StrCat(
          "bind source ", shown, ": ", Printable(here, 256), " is a symlink in a directory that ",
          holder.st_uid != 0 ? absl::StrCat("uid ", holder.st_uid, " owns")
                             : std::string("others may write"),
          ", so tokenbox does not follow it: name the path it leads to"));
    }
    if (++links > 40) {
      return ErrnoStatus(ELOOP, absl::StrCat("open(", shown, ")"), "too many symlinks");
    }
    char target[PATH_MAX];
    ssize_t length = readlinkat(next.get(), "", target, sizeof(target) - 1);
    if (length < 0) return ErrnoStatus(errno, absl::StrCat("readlink(", Printable(here, 256), ")"));
    const absl::string_view link(target, static_cast<size_t>(length));
    PushComponentsFront(link, rest);
    if (absl::StartsWith(link, "/")) {
      at = UniqueFd(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!at) return ErrnoStatus(errno, "open(/)");
      walked.clear();
    }
  }
  return at;
}

absl::StatusOr<std::vector<UniqueFd>> OpenBindSources(const FilesystemView& view) {
  std::vector<UniqueFd> sources;
  for (const MountOperation& op : view.operations) {
    if (!IsBind(op)) {
      sources.emplace_back();
      continue;
    }
    absl::StatusOr<UniqueFd> path = OpenHostSource(op.source);
    if (!path.ok()) return path.status();
    absl::StatusOr<UniqueFd> tree = CloneSource(path->get(), op, /*recursive=*/true);
    if (!tree.ok()) return tree.status();
    sources.push_back(*std::move(tree));
  }
  return sources;
}

absl::StatusOr<std::vector<UniqueFd>> CloneProvidedBindSources(const FilesystemView& view,
                                                               const std::vector<int>& fds,
                                                               int idmapping) {
  std::vector<UniqueFd> sources;
  size_t next = 0;
  for (const MountOperation& op : view.operations) {
    if (!IsBind(op)) {
      sources.emplace_back();
      continue;
    }
    if (next == fds.size()) {
      return absl::InvalidArgumentError("fewer bind sources were given than the view binds");
    }
    absl::StatusOr<UniqueFd> tree = CloneSource(fds[next++], op, /*recursive=*/false);
    if (!tree.ok()) return tree.status();
    if (op.kind == MountOperation::Kind::kBind && idmapping >= 0) {
      if (absl::Status s = IdmapMount(tree->get(), idmapping); !s.ok()) {
        return AppendRemedy(s, absl::StrCat(
            "the bind source ", Printable(op.source, 256), " is on a filesystem that cannot be "
            "idmapped, so what the sandbox writes there could not be yours: bind a directory on "
            "another filesystem, or run as yourself (--uid=self --gid=self)"));
      }
    }
    sources.push_back(*std::move(tree));
  }
  return sources;
}

}  // namespace tokenbox
