#ifndef TOKENBOX_SANDBOX_COMMAND_CODEC_H_
#define TOKENBOX_SANDBOX_COMMAND_CODEC_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ns/unique_fd.h"
#include "sandbox/command.h"

namespace tokenbox {

// A Command as bytes that another process can read (a fork server's zygote, tokenboxd):
// everything but a callable, which cannot cross into a process forked earlier, and the passed
// fds, which travel beside the bytes in order (ns/wire_format.h lays them out).
class CommandCodec {
 public:
  // `command` must not be of Kind::kFunction. `extra_targets` are passed fds that follow the
  // command's own, at those targets (a caller's stdio, for tokenboxd).
  static std::string Encode(const Command& command, absl::Span<const int> extra_targets = {});
  // `fds` are the passed fds, in the encoded order. Refuses truncated, inconsistent or oversized
  // input with a clear error.
  static absl::StatusOr<Command> Decode(absl::string_view bytes, std::vector<UniqueFd> fds);
};

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_COMMAND_CODEC_H_
