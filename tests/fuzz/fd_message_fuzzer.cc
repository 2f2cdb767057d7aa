// Fuzzes DecodeMessageHeader, the check every datagram from the other end of the launcher's
// socketpair passes before anything trusts it.
//
// Input: one byte, the number of descriptors that arrived beside the datagram (0..255, so also
// more than kMaxMessageFds), then the datagram's bytes.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "ns/fd_passing.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tokenbox::MessageHeader;
  if (size == 0) return 0;
  const size_t fds_received = data[0];
  const absl::Span<const char> bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  absl::StatusOr<MessageHeader> header = tokenbox::DecodeMessageHeader(bytes, fds_received);

  // An independent reading of the wire format: what must be accepted, and only that.
  bool valid = false;
  if (bytes.size() >= sizeof(MessageHeader)) {
    MessageHeader raw;
    std::memcpy(&raw, bytes.data(), sizeof(raw));
    const size_t payload = bytes.size() - sizeof(MessageHeader);
    valid = raw.magic == tokenbox::kMessageMagic && raw.payload_size == payload &&
            payload <= tokenbox::kMaxMessagePayload && raw.fd_count == fds_received &&
            fds_received <= tokenbox::kMaxMessageFds;
  }
  TB_FUZZ_CHECK(header.ok() == valid,
                absl::StrCat("a message of ", bytes.size(), " bytes with ", fds_received,
                             " fds is ", header.ok() ? "accepted" : "refused", " but should be ",
                             valid ? "accepted" : "refused", ": ", header.status().ToString()));
  if (!header.ok()) return 0;
  TB_FUZZ_CHECK(header->magic == tokenbox::kMessageMagic, "accepted a bad magic");
  TB_FUZZ_CHECK(header->payload_size == bytes.size() - sizeof(MessageHeader) &&
                    header->payload_size <= tokenbox::kMaxMessagePayload,
                absl::StrCat("accepted payload_size ", header->payload_size, " for ",
                             bytes.size() - sizeof(MessageHeader), " payload bytes"));
  TB_FUZZ_CHECK(header->fd_count == fds_received && fds_received <= tokenbox::kMaxMessageFds,
                absl::StrCat("accepted fd_count ", header->fd_count, " with ", fds_received,
                             " fds received"));
  return 0;
}
