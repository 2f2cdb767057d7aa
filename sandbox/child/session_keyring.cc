#include "sandbox/child/session_keyring.h"

#include <linux/keyctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"

namespace tokenbox {

absl::Status JoinFreshSessionKeyring(uint32_t host_uid) {
  const std::string remedy = absl::StrCat(
      "host uid ", host_uid, " may be out of its key quota (/proc/sys/kernel/keys/maxkeys)");
  return ErrnoUnless(syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, nullptr) >= 0,
                     "keyctl(KEYCTL_JOIN_SESSION_KEYRING)", remedy);
}

}  // namespace tokenbox
