#ifndef TOKENBOX_NS_FD_PASSING_H_
#define TOKENBOX_NS_FD_PASSING_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "ns/unique_fd.h"

namespace tokenbox {

// Typed messages between the launcher and its child over an AF_UNIX SOCK_SEQPACKET socketpair.
// Each message is one datagram: a fixed header, a small payload, and up to kMaxMessageFds
// descriptors in one SCM_RIGHTS control message. SEQPACKET keeps message boundaries and reports
// a peer that is gone as end-of-file, so a dead peer is an error, never a hang.

inline constexpr size_t kMaxMessagePayload = 4096;
inline constexpr size_t kMaxMessageFds = 16;

struct FdMessage {
  uint32_t type = 0;
  std::string payload;
  std::vector<UniqueFd> fds;  // Always O_CLOEXEC.
};

// The fixed part of every datagram, in host byte order (both ends run on the same machine).
struct MessageHeader {
  uint32_t magic;
  uint32_t type;
  uint32_t payload_size;
  uint32_t fd_count;
};
inline constexpr uint32_t kMessageMagic = 0x786f6274;  // "tbox"

struct SocketPair {
  UniqueFd parent;
  UniqueFd child;
};

// A close-on-exec SOCK_SEQPACKET socketpair.
absl::StatusOr<SocketPair> MakeSocketPair();

// Sends one message. A peer that closed gives EPIPE (FailedPrecondition), never SIGPIPE.
absl::Status SendFdMessage(int sock, uint32_t type, absl::string_view payload = {},
                           absl::Span<const int> fds = {});

// Receives one message, waiting at most `timeout`. Fails with a clear error when the peer closed,
// the deadline passed, the datagram or its control data was truncated (MSG_TRUNC / MSG_CTRUNC),
// or the header does not match the descriptors that arrived. Every descriptor that arrived is
// closed on failure: nothing leaks.
absl::StatusOr<FdMessage> ReceiveFdMessage(int sock,
                                           absl::Duration timeout = absl::InfiniteDuration());

// Whether a ReceiveFdMessage failure means the peer closed its end (end-of-file or
// ECONNRESET), as opposed to any other failure of the socket or the message.
bool IsPeerClosed(const absl::Status& status);

// ReceiveFdMessage that also requires the given type and exactly `fd_count` descriptors.
absl::StatusOr<FdMessage> ReceiveExpectedMessage(
    int sock, uint32_t type, size_t fd_count, absl::Duration timeout = absl::InfiniteDuration());

// Checks one received datagram (`bytes`, with `fds_received` descriptors beside it) and returns
// its header. Pure: it is what ReceiveFdMessage trusts, and what the fuzzer exercises.
absl::StatusOr<MessageHeader> DecodeMessageHeader(absl::Span<const char> bytes,
                                                  size_t fds_received);

}  // namespace tokenbox

#endif  // TOKENBOX_NS_FD_PASSING_H_
