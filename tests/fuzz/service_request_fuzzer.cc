// Fuzzes what tokenboxd decodes from a caller who is not root, in the order it does: the bytes
// of one request (DecodeServiceRequest), the sandbox they describe (SandboxCodec::Decode) and
// the command (CommandCodec::Decode, given as many real fds as the request says it passes).
//
// Input: the bytes of one request, as its kServiceRequestPart messages add up.

#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "ns/unique_fd.h"
#include "sandbox/command_codec.h"
#include "sandbox/sandbox_codec.h"
#include "sandbox/service/service_protocol.h"
#include "tests/fuzz/fuzz_check.h"

namespace tokenbox {
namespace {

void CheckSandbox(absl::string_view bytes) {
  absl::StatusOr<Sandbox> sandbox = SandboxCodec::Decode(bytes);
  if (!sandbox.ok()) return;
  // What was decoded is a Sandbox Build() accepted; encoded again it decodes to the same.
  const std::string again = SandboxCodec::Encode(*sandbox);
  absl::StatusOr<Sandbox> reread = SandboxCodec::Decode(again);
  TB_FUZZ_CHECK(reread.ok(), absl::StrCat("a decoded sandbox, encoded again, does not decode: ",
                                          reread.status().ToString()));
  TB_FUZZ_CHECK(SandboxCodec::Encode(*reread) == again,
                "a decoded sandbox encodes differently each time");
}

void CheckCommand(absl::string_view bytes, uint32_t passed_fds) {
  std::vector<UniqueFd> fds;
  for (uint32_t i = 0; i < passed_fds; ++i) {
    fds.emplace_back(open("/dev/null", O_RDONLY | O_CLOEXEC));
    TB_FUZZ_CHECK(static_cast<bool>(fds.back()), "cannot open /dev/null for a passed fd");
  }
  absl::StatusOr<Command> command = CommandCodec::Decode(bytes, std::move(fds));
  if (!command.ok()) return;
  TB_FUZZ_CHECK(command->kind() != Command::Kind::kFunction,
                "a function, which cannot cross into tokenboxd, was decoded");
}

}  // namespace
}  // namespace tokenbox

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tokenbox;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<ServiceRequest> request = DecodeServiceRequest(bytes);
  if (!request.ok()) return 0;
  // The encoding is canonical: what was accepted is exactly what encoding it gives.
  TB_FUZZ_CHECK(EncodeServiceRequest(*request) == bytes,
                "an accepted request encodes to other bytes than it arrived as");
  TB_FUZZ_CHECK(request->bind_sources <= kMaxServiceRequestFds &&
                    request->passed_fds <= kMaxServiceRequestFds,
                absl::StrCat("accepted ", request->bind_sources, " bind sources and ",
                             request->passed_fds, " passed fds"));
  CheckSandbox(request->sandbox);
  CheckCommand(request->command, request->passed_fds);
  return 0;
}
