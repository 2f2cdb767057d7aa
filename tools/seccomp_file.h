#ifndef TOKENBOX_TOOLS_SECCOMP_FILE_H_
#define TOKENBOX_TOOLS_SECCOMP_FILE_H_

#include <linux/filter.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tokenbox {

// `--seccomp=FILE`: a compiled seccomp filter, the raw array of classic BPF instructions (8 bytes
// each, this machine's byte order) that libseccomp's seccomp_export_bpf() writes and
// bubblewrap's --seccomp reads. Checked here for its size only; the kernel checks the program
// when the sandbox installs it.
absl::StatusOr<std::vector<sock_filter>> ReadSeccompFile(const std::string& path);

}  // namespace tokenbox

#endif  // TOKENBOX_TOOLS_SECCOMP_FILE_H_
