#ifndef TOKENBOX_SANDBOX_HOST_RESOURCES_CGROUP_HIERARCHY_H_
#define TOKENBOX_SANDBOX_HOST_RESOURCES_CGROUP_HIERARCHY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tokenbox {

// A cgroup hierarchy the launcher is in, and its cgroup there.
struct CgroupHierarchy {
  int version = 2;          // 1 for a v1 hierarchy of named controllers, 2 for cgroup2.
  std::string mount_point;  // "/sys/fs/cgroup/memory", "/sys/fs/cgroup/unified", ...
  std::string launcher_cgroup;  // "/" or "/a/b", as /proc/self/cgroup names it.

  // The launcher's cgroup's directory.
  std::string LauncherDirectory() const {
    return launcher_cgroup == "/" ? mount_point : mount_point + launcher_cgroup;
  }
};

// What /proc/self/mountinfo and /proc/self/cgroup say of the cgroup hierarchies, read once, so
// that a launch asking about several controllers parses each file one time.
class CgroupLayout {
 public:
  static CgroupLayout Read();

  // The cgroup2 hierarchy (the one under /sys/fs/cgroup if several are mounted), or nullopt
  // when there is none; an error when /proc/self/cgroup does not place the launcher in it.
  absl::StatusOr<std::optional<CgroupHierarchy>> Cgroup2() const;

  // Where a cgroup below the launcher's can use `controller` ("memory", "pids", "cpu"): the v1
  // hierarchy that holds it (this project's machines: the hybrid layout), else cgroup2 when the
  // launcher's cgroup there lists it in cgroup.controllers. An error says which it is on
  // neither, and what to do.
  absl::StatusOr<CgroupHierarchy> ControllerHierarchy(absl::string_view controller) const;

 private:
  struct Mount {
    std::string mount_point;
    std::string fstype;
    std::vector<std::string> super_options;
  };
  // A /proc/self/cgroup line, "ID:CONTROLLERS:PATH".
  struct Membership {
    std::vector<std::string> controllers;  // Empty for cgroup2.
    std::string path;
  };

  // The launcher's cgroup in the v1 hierarchy that lists `v1_controller`, or with "" in cgroup2.
  std::optional<std::string> LauncherCgroup(absl::string_view v1_controller) const;

  std::vector<Mount> mounts_;
  std::vector<Membership> memberships_;
};

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_HOST_RESOURCES_CGROUP_HIERARCHY_H_
