#include "sandbox/exit_status.h"

#include <string.h>

#include "absl/strings/str_cat.h"

namespace tokenbox {

int ExitStatus::ShellExitCode() const {
  switch (kind) {
    case Kind::kExited: return code;
    case Kind::kSignaled: return 128 + signal;
    case Kind::kTimedOut: return 124;
  }
  return 125;
}

std::string ExitStatus::ToString() const {
  switch (kind) {
    case Kind::kExited: return absl::StrCat("exited with code ", code);
    case Kind::kSignaled: {
      const char* name = sigabbrev_np(signal);
      return absl::StrCat("killed by signal ", signal, name ? absl::StrCat(" (SIG", name, ")") : "");
    }
    case Kind::kTimedOut: return "timed out and killed";
  }
  return "";
}

}  // namespace tokenbox
