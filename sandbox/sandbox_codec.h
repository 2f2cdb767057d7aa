#ifndef TOKENBOX_SANDBOX_SANDBOX_CODEC_H_
#define TOKENBOX_SANDBOX_SANDBOX_CODEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sandbox/sandbox.h"

namespace tokenbox {

// A Sandbox as bytes that another process (tokenboxd) can read, laid out by ns/wire_format.h:
// every field a SandboxBuilder takes, and the Allow*() opt-outs the sandbox needs. Decoding runs
// the bytes through SandboxBuilder::Build() again, so a decoded Sandbox is as consistent as one
// built in the process, whatever the bytes were.
class SandboxCodec {
 public:
  static std::string Encode(const Sandbox& sandbox);
  // Refuses truncated, oversized or inconsistent input with one error.
  static absl::StatusOr<Sandbox> Decode(absl::string_view bytes);
};

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_SANDBOX_CODEC_H_
