#include "ns/mount_namespace.h"

#include <sys/mount.h>

#include <cerrno>

#include "ns/errno_status.h"

namespace tokenbox {

absl::Status MakeMountsPrivate() {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return ErrnoStatus(errno, "mount(\"/\", MS_REC|MS_PRIVATE)",
                       "needs CAP_SYS_ADMIN in the user namespace that owns this mount namespace");
  }
  return absl::OkStatus();
}

}  // namespace tokenbox
