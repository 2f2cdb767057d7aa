#ifndef TOKENBOX_TOOLS_FUZZER_OUTPUT_H_
#define TOKENBOX_TOOLS_FUZZER_OUTPUT_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tokenbox {

// What `tokenbox fuzz` learns from the fuzzer's stderr, read as a stream of lines with a fixed
// bound: a line is kept up to kMaxLine bytes and the rest of it dropped, so that a fuzzer that
// writes megabytes without a newline costs tokenbox (which runs as root) neither memory nor
// time beyond one pass over the bytes.
class FuzzerOutput {
 public:
  static constexpr size_t kMaxLine = 4096;

  void Feed(absl::string_view bytes);
  // Takes a last line that has no newline.
  void Finish();

  // libFuzzer's or a sanitizer's "ERROR: " line, as the fuzzer wrote it (not yet printable).
  const std::string& error() const { return error_; }
  // The path after "Test unit written to ", as the fuzzer wrote it: untrusted.
  const std::string& artifact() const { return artifact_; }

 private:
  void Scan(absl::string_view line);

  std::string line_;
  std::string error_;
  std::string artifact_;
};

// Copies `from` (the fuzzer's stderr) to `to` and into `output` until the sandbox whose pidfd
// is `pidfd` has ended, or `deadline` passes. A writer the fuzzer handed its stderr to (another
// sandbox) cannot keep it waiting: once the sandbox is gone, only what is already buffered, at
// most kDrainLimit bytes, is read.
inline constexpr size_t kDrainLimit = 1 << 20;
absl::Status CopyUntilSandboxEnds(int from, int to, int pidfd,
                                  std::optional<absl::Time> deadline, FuzzerOutput& output);

// The artifact the fuzzer reported, as a path tokenbox may repeat: the path of a regular file
// (not a symlink) whose directory is one of `artifact_dirs` (resolved, absolute). A relative
// path counts from `workdir`. Anything else (a path outside, /etc/shadow, a symlink there)
// gives nullopt.
std::optional<std::string> ArtifactInside(const std::string& reported, const std::string& workdir,
                                          const std::vector<std::string>& artifact_dirs);

}  // namespace tokenbox

#endif  // TOKENBOX_TOOLS_FUZZER_OUTPUT_H_
