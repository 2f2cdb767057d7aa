#include "sandbox/host_resources/cgroup_hierarchy.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace tokenbox {
namespace {

bool Contains(const std::vector<std::string>& items, absl::string_view item) {
  for (const std::string& candidate : items) {
    if (candidate == item) return true;
  }
  return false;
}

}  // namespace

CgroupLayout CgroupLayout::Read() {
  CgroupLayout layout;
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS...] - FSTYPE SOURCE SUPEROPTIONS"
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    size_t dash = 0;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (fields.size() < 5 || dash + 3 >= fields.size()) continue;
    const std::string& fstype = fields[dash + 1];
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    layout.mounts_.push_back({fields[4], fstype, absl::StrSplit(fields[dash + 3], ',')});
  }
  std::ifstream cgroups("/proc/self/cgroup");
  while (std::getline(cgroups, line)) {
    std::vector<std::string> fields = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (fields.size() != 3) continue;
    layout.memberships_.push_back(
        {absl::StrSplit(fields[1], ',', absl::SkipEmpty()), fields[2]});
  }
  return layout;
}

std::optional<std::string> CgroupLayout::LauncherCgroup(absl::string_view v1_controller) const {
  for (const Membership& membership : memberships_) {
    if (v1_controller.empty() ? membership.controllers.empty()
                              : Contains(membership.controllers, v1_controller)) {
      return membership.path;
    }
  }
  return std::nullopt;
}

absl::StatusOr<std::optional<CgroupHierarchy>> CgroupLayout::Cgroup2() const {
  std::optional<std::string> mount_point;
  for (const Mount& mount : mounts_) {
    if (mount.fstype != "cgroup2") continue;
    if (!mount_point.has_value() || absl::StartsWith(mount.mount_point, "/sys/fs/cgroup")) {
      mount_point = mount.mount_point;
    }
  }
  if (!mount_point.has_value()) return std::nullopt;
  std::optional<std::string> own = LauncherCgroup("");
  if (!own.has_value()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "/proc/self/cgroup names no cgroup2 cgroup of tokenbox's, though cgroup2 is mounted at ",
        *mount_point));
  }
  return CgroupHierarchy{2, *mount_point, *own};
}

absl::StatusOr<CgroupHierarchy> CgroupLayout::ControllerHierarchy(
    absl::string_view controller) const {
  for (const Mount& mount : mounts_) {
    if (mount.fstype != "cgroup" || !Contains(mount.super_options, controller)) continue;
    std::optional<std::string> own = LauncherCgroup(controller);
    if (own.has_value()) return CgroupHierarchy{1, mount.mount_point, *own};
  }
  absl::StatusOr<std::optional<CgroupHierarchy>> cgroup2 = Cgroup2();
  if (!cgroup2.ok()) return cgroup2.status();
  if (!cgroup2->has_value()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no cgroup hierarchy on this machine holds the ", controller, " controller: mount it "
        "(cgroup v1) or enable it on cgroup2, or run without the limit that needs it"));
  }
  const std::string controllers_file = (*cgroup2)->LauncherDirectory() + "/cgroup.controllers";
  std::ifstream file(controllers_file);
  std::stringstream text;
  text << file.rdbuf();
  if (!Contains(absl::StrSplit(absl::StripTrailingAsciiWhitespace(text.str()), ' '),
                controller)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the ", controller, " controller is on no cgroup v1 hierarchy and not in ",
        controllers_file, ": enable it for tokenbox's cgroup (in its parent's "
        "cgroup.subtree_control), or run without the limit that needs it"));
  }
  return **cgroup2;
}

}  // namespace tokenbox
