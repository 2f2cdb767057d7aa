#include "sandbox/child/working_directory.h"

#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"

namespace tokenbox {

absl::Status EnterWorkingDirectory(const Command& command, uint32_t host_uid) {
  if (command.working_directory().has_value()) {
    const std::string& dir = *command.working_directory();
    const std::string call = absl::StrCat("chdir(", Printable(dir, 256), ")");
    const std::string remedy = absl::StrCat(
        "the directory must exist inside the sandbox and be searchable by host uid ", host_uid);
    return ErrnoUnless(chdir(dir.c_str()) == 0, call, remedy);
  }
  if (chdir(command.launcher_directory().c_str()) == 0) return absl::OkStatus();
  return ErrnoUnless(chdir("/") == 0, "chdir(/)", "the sandbox's / must be searchable");
}

}  // namespace tokenbox
