#ifndef TOKENBOX_SANDBOX_CGROUP_HIERARCHY_H_
#define TOKENBOX_SANDBOX_CGROUP_HIERARCHY_H_

#include <optional>
#include <string>

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

// The cgroup2 hierarchy (the one under /sys/fs/cgroup if several are mounted), or nullopt
// when there is none; an error when /proc/self/cgroup does not place the launcher in it.
absl::StatusOr<std::optional<CgroupHierarchy>> FindCgroup2();

// Where a cgroup below the launcher's can use `controller` ("memory", "pids", "cpu"): the v1
// hierarchy that holds it (this project's machines: the hybrid layout), else cgroup2 when the
// launcher's cgroup there lists it in cgroup.controllers. An error says which it is on neither,
// and what to do.
absl::StatusOr<CgroupHierarchy> FindControllerHierarchy(absl::string_view controller);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CGROUP_HIERARCHY_H_
