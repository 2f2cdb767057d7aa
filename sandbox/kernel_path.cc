#include "sandbox/kernel_path.h"

#include <limits.h>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"

namespace tokenbox {

void CheckKernelPath(absl::string_view what, absl::string_view path,
                     std::vector<std::string>& problems) {
  if (path.empty() || path[0] != '/') {
    problems.push_back(absl::StrCat(what, " '", Printable(path), "' must be an absolute path"));
  } else if (path.size() >= PATH_MAX) {
    problems.push_back(absl::StrCat(what, " '", Printable(path), "' is longer than PATH_MAX (",
                                    PATH_MAX - 1, " bytes)"));
  } else if (path.find('\0') != absl::string_view::npos) {
    problems.push_back(absl::StrCat(what, " '", Printable(path), "' contains a NUL byte"));
  }
}

}  // namespace tokenbox
