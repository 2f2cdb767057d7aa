#include "ns/fd_passing.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/monotonic_clock.h"

namespace tokenbox {
namespace {

constexpr size_t kMaxDatagram = sizeof(MessageHeader) + kMaxMessagePayload;

absl::Status PeerClosed(absl::string_view while_doing) {
  return absl::FailedPreconditionError(
      absl::StrCat(while_doing, ": the peer closed its end of the socket (did it exit or crash?)"));
}

// Waits until `sock` is readable or `deadline` passes, retrying on EINTR.
// `deadline` is on MonotonicNow()'s clock: this also runs in freshly forked children.
absl::Status WaitReadable(int sock, absl::Duration deadline) {
  for (;;) {
    int timeout_ms = -1;
    if (deadline != absl::InfiniteDuration()) {
      absl::Duration left = deadline - MonotonicNow();
      if (left <= absl::ZeroDuration()) {
        return absl::DeadlineExceededError(
            "recvmsg: no message from the peer before the deadline: the peer may be hung, or the "
            "machine overloaded");
      }
      timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))));
    }
    pollfd pfd = {.fd = sock, .events = POLLIN};
    int ready = poll(&pfd, 1, timeout_ms);
    if (ready > 0) return absl::OkStatus();  // Readable, or hung up: recvmsg tells which.
    if (ready == 0) continue;                // Loop back to report the deadline.
    if (errno != EINTR) return ErrnoStatus(errno, "poll(message socket)");
  }
}

}  // namespace

bool IsPeerClosed(const absl::Status& status) {
  // End-of-file is a FailedPrecondition without an errno (PeerClosed above); the only errno
  // that means the same is recvmsg's ECONNRESET. EBADF, say, maps to the same code but is not.
  const int err = ErrnoOf(status);
  return (status.code() == absl::StatusCode::kFailedPrecondition && err == 0) || err == ECONNRESET;
}

absl::StatusOr<SocketPair> MakeSocketPair() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return ErrnoStatus(errno, "socketpair(AF_UNIX, SOCK_SEQPACKET)");
  }
  return SocketPair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

absl::Status SendFdMessage(int sock, uint32_t type, absl::string_view payload,
                           absl::Span<const int> fds) {
  if (payload.size() > kMaxMessagePayload) {
    return absl::InvalidArgumentError(absl::StrCat("sendmsg: payload of ", payload.size(),
                                                   " bytes exceeds ", kMaxMessagePayload));
  }
  if (fds.size() > kMaxMessageFds) {
    return absl::InvalidArgumentError(
        absl::StrCat("sendmsg: ", fds.size(), " fds exceed the limit of ", kMaxMessageFds));
  }
  MessageHeader header = {kMessageMagic, type, static_cast<uint32_t>(payload.size()),
                          static_cast<uint32_t>(fds.size())};
  char datagram[kMaxDatagram];
  memcpy(datagram, &header, sizeof(header));
  if (!payload.empty()) memcpy(datagram + sizeof(header), payload.data(), payload.size());
  iovec iov = {.iov_base = datagram, .iov_len = sizeof(header) + payload.size()};

  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxMessageFds)] = {};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    ssize_t sent = sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (sent >= 0) return absl::OkStatus();  // SEQPACKET sends a datagram whole or not at all.
    if (errno == EINTR) continue;
    if (errno == EPIPE || errno == ECONNRESET) {
      return ErrnoStatus(errno, absl::StrCat("sendmsg(message type ", type, ")"),
                         "the peer closed its end of the socket (did it exit or crash?)");
    }
    return ErrnoStatus(errno, absl::StrCat("sendmsg(message type ", type, ", ", fds.size(), " fds)"));
  }
}

absl::StatusOr<MessageHeader> DecodeMessageHeader(absl::Span<const char> bytes,
                                                  size_t fds_received) {
  if (bytes.size() < sizeof(MessageHeader)) {
    return absl::DataLossError(absl::StrCat("message of ", bytes.size(),
                                            " bytes is shorter than its header"));
  }
  MessageHeader header;
  memcpy(&header, bytes.data(), sizeof(header));
  if (header.magic != kMessageMagic) {
    return absl::DataLossError(absl::StrCat("message has bad magic 0x", absl::Hex(header.magic)));
  }
  if (header.payload_size > kMaxMessagePayload ||
      header.payload_size != bytes.size() - sizeof(MessageHeader)) {
    return absl::DataLossError(absl::StrCat("message type ", header.type, " declares ",
                                            header.payload_size, " payload bytes but carries ",
                                            bytes.size() - sizeof(MessageHeader)));
  }
  if (header.fd_count > kMaxMessageFds) {
    return absl::DataLossError(absl::StrCat("message type ", header.type, " declares ",
                                            header.fd_count, " fds, over the limit of ",
                                            kMaxMessageFds));
  }
  if (header.fd_count != fds_received) {
    return absl::DataLossError(absl::StrCat("message type ", header.type, " declares ",
                                            header.fd_count, " fds but ", fds_received,
                                            " arrived"));
  }
  return header;
}

absl::StatusOr<FdMessage> ReceiveFdMessage(int sock, absl::Duration timeout) {
  absl::Duration deadline = timeout == absl::InfiniteDuration() ? absl::InfiniteDuration()
                                                                : MonotonicNow() + timeout;
  char datagram[kMaxDatagram];
  // Room for one fd more than the limit, so that a sender over the limit is caught by the count
  // check below rather than silently cut to size.
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * (kMaxMessageFds + 1))];
  iovec iov = {.iov_base = datagram, .iov_len = sizeof(datagram)};
  msghdr msg = {};
  ssize_t received;
  // A peer that closed while our messages sat unread in its queue makes the kernel fail the next
  // recvmsg with ECONNRESET, once, even when the peer's own last messages are still queued (a
  // child's report of its failed step, say). Those are read first; the reset stands for the
  // end-of-file after them.
  bool peer_reset = false;
  for (;;) {
    if (absl::Status ready = WaitReadable(sock, deadline); !ready.ok()) return ready;
    msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    received = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (received > 0 || (received == 0 && !peer_reset)) break;
    if (received < 0 && errno == ECONNRESET && !peer_reset) {
      peer_reset = true;
      continue;
    }
    if (received == 0 || errno == ECONNRESET) {
      return ErrnoStatus(ECONNRESET, "recvmsg",
                         "the peer closed its end of the socket (did it exit or crash?)");
    }
    if (errno == EINTR || errno == EAGAIN) continue;
    return ErrnoStatus(errno, "recvmsg(message socket)",
                       "the socket between launcher and sandbox failed, which should not "
                       "happen: run with --verbose and report the step and errno");
  }

  // Take ownership of every descriptor first, so that each error below closes them all.
  FdMessage message;
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
      message.fds.emplace_back(fd);
    }
  }
  if (received == 0) return PeerClosed("recvmsg");
  if (msg.msg_flags & MSG_CTRUNC) {
    return absl::DataLossError(absl::StrCat(
        "recvmsg: control data truncated (MSG_CTRUNC): the peer sent more than ", kMaxMessageFds,
        " fds, or this process is at its fd limit (RLIMIT_NOFILE)"));
  }
  if (msg.msg_flags & MSG_TRUNC) {
    return absl::DataLossError(
        absl::StrCat("recvmsg: datagram truncated (MSG_TRUNC): larger than ", kMaxDatagram, " bytes"));
  }
  absl::StatusOr<MessageHeader> header =
      DecodeMessageHeader(absl::MakeConstSpan(datagram, received), message.fds.size());
  if (!header.ok()) return Annotate(header.status(), "recvmsg");
  message.type = header->type;
  message.payload.assign(datagram + sizeof(MessageHeader), header->payload_size);
  return message;
}

absl::StatusOr<FdMessage> ReceiveExpectedMessage(int sock, uint32_t type, size_t fd_count,
                                                 absl::Duration timeout) {
  absl::StatusOr<FdMessage> message = ReceiveFdMessage(sock, timeout);
  if (!message.ok()) return message.status();
  if (message->type != type || message->fds.size() != fd_count) {
    return absl::DataLossError(absl::StrCat("expected message type ", type, " with ", fd_count,
                                            " fds, got type ", message->type, " with ",
                                            message->fds.size()));
  }
  return message;
}

}  // namespace tokenbox
