#include "ns/fd_passing.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ns/errno_status.h"
#include "ns/pipe.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::CountOpenFds;

bool SameFile(int a, int b) {
  struct stat sa, sb;
  return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

bool IsCloexec(int fd) { return (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0; }

// Everything readable from `fd` until end-of-file.
std::string ReadAll(int fd) {
  std::string text;
  char buffer[256];
  for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) {
    text.append(buffer, static_cast<size_t>(n));
  }
  return text;
}

// A pipe whose read end holds `text` and whose write end is already closed.
absl::StatusOr<UniqueFd> PipeHolding(const std::string& text) {
  absl::StatusOr<Pipe> pipe = MakePipe();
  if (!pipe.ok()) return pipe.status();
  if (write(pipe->write_end.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return absl::InternalError("short write into a fresh pipe");
  }
  return std::move(pipe->read_end);
}

// Whether thread `tid` of this process is blocked in poll(2) or ppoll(2) (the first field of
// /proc/self/task/TID/syscall is the number of the call it sleeps in).
bool BlockedInPoll(pid_t tid) {
  std::string syscall = testing::ReadProcFile(absl::StrCat("/proc/self/task/", tid, "/syscall"));
  return absl::StartsWith(syscall, absl::StrCat(SYS_poll, " ")) ||
         absl::StartsWith(syscall, absl::StrCat(SYS_ppoll, " "));
}

// Waits up to five seconds for `condition`; false when it never held.
template <typename Condition>
bool WaitFor(Condition condition) {
  absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (!condition()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

std::atomic<int> usr1_handled{0};
void CountUsr1(int) { usr1_handled.fetch_add(1); }

TEST_CASE("One fd and a payload cross the socketpair, and arrive close-on-exec") {
  auto pair = MakeSocketPair();
  TB_REQUIRE_OK(pair);
  UniqueFd file(open("/proc/self/exe", O_RDONLY));  // Deliberately not O_CLOEXEC.
  REQUIRE(file.valid());
  int fds[] = {file.get()};
  TB_REQUIRE_OK(SendFdMessage(pair->parent.get(), 7, "hello", fds));
  auto message = ReceiveFdMessage(pair->child.get(), absl::Seconds(5));
  TB_REQUIRE_OK(message);
  CHECK(message->type == 7);
  CHECK(message->payload == "hello");
  REQUIRE(message->fds.size() == 1);
  CHECK(message->fds[0].get() != file.get());
  CHECK(SameFile(message->fds[0].get(), file.get()));
  CHECK(IsCloexec(message->fds[0].get()));
}

TEST_CASE("Several fds cross in one message, in order") {
  auto pair = MakeSocketPair();
  TB_REQUIRE_OK(pair);
  UniqueFd a(open("/dev/null", O_RDONLY | O_CLOEXEC));
  UniqueFd b(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  UniqueFd c(open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  int fds[] = {a.get(), b.get(), c.get()};
  TB_REQUIRE_OK(SendFdMessage(pair->parent.get(), 2, "", fds));
  auto message = ReceiveExpectedMessage(pair->child.get(), 2, 3, absl::Seconds(5));
  TB_REQUIRE_OK(message);
  CHECK(SameFile(message->fds[0].get(), a.get()));
  CHECK(SameFile(message->fds[1].get(), b.get()));
  CHECK(SameFile(message->fds[2].get(), c.get()));
}

TEST_CASE("A peer that closed is an error, never a hang") {
  auto pair = MakeSocketPair();
  TB_REQUIRE_OK(pair);
  pair->parent.Reset();
  auto message = ReceiveFdMessage(pair->child.get(), absl::Seconds(5));
  REQUIRE_FALSE(message.ok());
  CHECK(message.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(message.status().message()).find("peer closed") != std::string::npos);
  absl::Status sent = SendFdMessage(pair->child.get(), 1, "x");
  CHECK(sent.code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("A peer process that died before sending is reported as closed") {
  auto pair = MakeSocketPair();
  TB_REQUIRE_OK(pair);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    raise(SIGKILL);
    _exit(1);
  }
  pair->child.Reset();
  int status;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status));
  auto message = ReceiveFdMessage(pair->parent.get(), absl::Seconds(5));
  REQUIRE_FALSE(message.ok());
  CHECK(std::string(message.status().message()).find("peer closed") != std::string::npos);
}

TEST_CASE("A signal that interrupts a blocked receive does not end it: the message still arrives") {
  auto pair = MakeSocketPair();
  TB_REQUIRE_OK(pair);
  // No SA_RESTART: poll() and recvmsg() then fail with EINTR rather than resume by themselves.
  struct sigaction interrupt = {}, previous = {};
  interrupt.sa_handler = CountUsr1;
  sigemptyset(&interrupt.sa_mask);
  interrupt.sa_flags = 0;
  REQUIRE(sigaction(SIGUSR1, &interrupt, &previous) == 0);
  usr1_handled = 0;
  const pid_t receiver_tid = static_cast<pid_t>(syscall(SYS_gettid));
  const pthread_t receiver = pthread_self();
  auto file = PipeHolding("sent after the signal");
  TB_REQUIRE_OK(file);
  bool blocked_before_signal = false, blocked_again_after_signal = false;
  absl::Status sent;
  std::thread sender([&] {
    blocked_before_signal = WaitFor([&] { return BlockedInPoll(receiver_tid); });
    pthread_kill(receiver, SIGUSR1);
    // Blocked again after the handler ran: the receive went back to waiting instead of returning.
    blocked_again_after_signal = WaitFor([&] { return usr1_handled.load() == 1; }) &&
                                 WaitFor([&] { return BlockedInPoll(receiver_tid); });
    int fds[] = {file->get()};
    sent = SendFdMessage(pair->parent.get(), 4, "after EINTR", fds);
  });
  auto message = ReceiveFdMessage(pair->child.get(), absl::Seconds(20));
  sender.join();
  sigaction(SIGUSR1, &previous, nullptr);
  CHECK(blocked_before_signal);
  CHECK(usr1_handled.load() == 1);
  CHECK(blocked_again_after_signal);
  TB_CHECK_OK(sent);
  TB_REQUIRE_OK(message);
  CHECK(message->type == 4);
  CHECK(message->payload == "after EINTR");
  REQUIRE(message->fds.size() == 1);
  CHECK(ReadAll(message->fds[0].get()) == "sent after the signal");
}

TEST_CASE("Fds sent by another process work in the receiver") {
  auto pair = MakeSocketPair();
  TB_REQUIRE_OK(pair);
  std::fflush(nullptr);
  pid_t sender = fork();
  REQUIRE(sender >= 0);
  if (sender == 0) {
    pair->parent.Reset();
    // Both the pipe and its contents exist only in this process until the message leaves.
    auto file = PipeHolding(absl::StrCat("written by pid ", getpid()));
    if (!file.ok()) _exit(1);
    int fds[] = {file->get()};
    _exit(SendFdMessage(pair->child.get(), 5, "from the child", fds).ok() ? 0 : 2);
  }
  pair->child.Reset();
  auto message = ReceiveExpectedMessage(pair->parent.get(), 5, 1, absl::Seconds(10));
  int status = 0;
  REQUIRE(waitpid(sender, &status, 0) == sender);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  TB_REQUIRE_OK(message);
  CHECK(message->payload == "from the child");
  CHECK(IsCloexec(message->fds[0].get()));
  CHECK(ReadAll(message->fds[0].get()) == absl::StrCat("written by pid ", sender));
}

TEST_CASE("A sender that dies after sending: its message and fds still arrive, then the peer is "
          "reported closed") {
  auto pair = MakeSocketPair();
  TB_REQUIRE_OK(pair);
  std::fflush(nullptr);
  pid_t sender = fork();
  REQUIRE(sender >= 0);
  if (sender == 0) {
    pair->parent.Reset();
    auto first = PipeHolding("first");
    auto second = PipeHolding("second");
    if (!first.ok() || !second.ok()) _exit(1);
    int fds[] = {first->get(), second->get()};
    if (!SendFdMessage(pair->child.get(), 6, "last words", fds).ok()) _exit(2);
    raise(SIGKILL);  // Dies with the fds still in flight: nothing of it runs after this.
    _exit(3);
  }
  pair->child.Reset();
  // Reaped first, so the receive below starts only after every fd the sender held is closed.
  int status = 0;
  REQUIRE(waitpid(sender, &status, 0) == sender);
  CHECK(WIFSIGNALED(status));
  auto message = ReceiveExpectedMessage(pair->parent.get(), 6, 2, absl::Seconds(5));
  TB_REQUIRE_OK(message);
  CHECK(message->payload == "last words");
  CHECK(ReadAll(message->fds[0].get()) == "first");
  CHECK(ReadAll(message->fds[1].get()) == "second");
  auto after = ReceiveFdMessage(pair->parent.get(), absl::Seconds(5));
  REQUIRE_FALSE(after.ok());
  CHECK(after.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(after.status().message()) ==
        "recvmsg: the peer closed its end of the socket (did it exit or crash?)");
  CHECK(IsPeerClosed(after.status()));
}

// A child that fails a step while a launcher message waits unread in its queue reports the failure
// and exits. The kernel then fails the launcher's next recvmsg with ECONNRESET ahead of that
// report; read as a closed peer, the failure passed for a successful exec (seen in CI as a
// set-up fault that "exited with code 125").
TEST_CASE("ReceiveFdMessage delivers a closed peer's queued message before the reset") {
  auto pair = MakeSocketPair();
  TB_REQUIRE_OK(pair);
  TB_REQUIRE_OK(SendFdMessage(pair->parent.get(), 4, "never read"));
  TB_REQUIRE_OK(SendFdMessage(pair->child.get(), 7, "the step failed"));
  pair->child.Reset();
  auto report = ReceiveFdMessage(pair->parent.get(), absl::Seconds(5));
  TB_REQUIRE_OK(report);
  CHECK(report->type == 7u);
  CHECK(report->payload == "the step failed");
  auto after = ReceiveFdMessage(pair->parent.get(), absl::Seconds(5));
  REQUIRE_FALSE(after.ok());
  CHECK(IsPeerClosed(after.status()));
}

// The launcher reads a closed peer as a successful exec: no other failure may look like one.
TEST_CASE("IsPeerClosed is true only for end-of-file and ECONNRESET") {
  auto pair = MakeSocketPair();
  TB_REQUIRE_OK(pair);
  pair->child.Reset();
  auto closed = ReceiveFdMessage(pair->parent.get(), absl::Seconds(5));
  REQUIRE_FALSE(closed.ok());
  CHECK(IsPeerClosed(closed.status()));
  CHECK(IsPeerClosed(ErrnoStatus(ECONNRESET, "recvmsg")));
  CHECK_FALSE(IsPeerClosed(ErrnoStatus(EBADF, "recvmsg")));  // Also FailedPrecondition.
  CHECK_FALSE(IsPeerClosed(ErrnoStatus(EIO, "recvmsg")));
  auto silent = MakeSocketPair();
  TB_REQUIRE_OK(silent);
  auto timed_out = ReceiveFdMessage(silent->parent.get(), absl::Milliseconds(10));
  REQUIRE_FALSE(timed_out.ok());
  CHECK_FALSE(IsPeerClosed(timed_out.status()));
}

TEST_CASE("A silent peer hits the deadline") {
  auto pair = MakeSocketPair();
  TB_REQUIRE_OK(pair);
  auto message = ReceiveFdMessage(pair->child.get(), absl::Milliseconds(50));
  CHECK(message.status().code() == absl::StatusCode::kDeadlineExceeded);
}

TEST_CASE("An unexpected type or fd count is refused, and the fds that came are closed") {
  auto pair = MakeSocketPair();
  TB_REQUIRE_OK(pair);
  UniqueFd file(open("/dev/null", O_RDONLY | O_CLOEXEC));
  int fds[] = {file.get(), file.get()};
  int before = CountOpenFds();
  TB_REQUIRE_OK(SendFdMessage(pair->parent.get(), 3, "", fds));
  auto message = ReceiveExpectedMessage(pair->child.get(), 3, 1, absl::Seconds(5));
  REQUIRE_FALSE(message.ok());
  CHECK(std::string(message.status().message()).find("with 1 fds, got type 3 with 2") !=
        std::string::npos);
  CHECK(CountOpenFds() == before);
}

// Sends `count` copies of fd 0 with a header that claims `claimed` fds, bypassing SendFdMessage.
void SendRaw(int sock, size_t count, uint32_t claimed) {
  MessageHeader header = {kMessageMagic, 9, 0, claimed};
  iovec iov = {&header, sizeof(header)};
  std::vector<int> fds(count, 0);
  std::vector<char> control(CMSG_SPACE(sizeof(int) * count));
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int) * count);
  memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * count);
  REQUIRE(sendmsg(sock, &msg, 0) == static_cast<ssize_t>(sizeof(header)));
}

TEST_CASE("Truncated control data (MSG_CTRUNC) is an error and leaks no fd") {
  auto pair = MakeSocketPair();
  TB_REQUIRE_OK(pair);
  int before = CountOpenFds();
  SendRaw(pair->parent.get(), 40, 40);
  auto message = ReceiveFdMessage(pair->child.get(), absl::Seconds(5));
  REQUIRE_FALSE(message.ok());
  CHECK(std::string(message.status().message()).find("MSG_CTRUNC") != std::string::npos);
  CHECK(CountOpenFds() == before);
}

TEST_CASE("A header whose fd count disagrees with what arrived is refused") {
  auto pair = MakeSocketPair();
  TB_REQUIRE_OK(pair);
  int before = CountOpenFds();
  SendRaw(pair->parent.get(), 2, 5);
  auto message = ReceiveFdMessage(pair->child.get(), absl::Seconds(5));
  REQUIRE_FALSE(message.ok());
  CHECK(message.status().code() == absl::StatusCode::kDataLoss);
  CHECK(std::string(message.status().message()).find("declares 5 fds but 2 arrived") !=
        std::string::npos);
  CHECK(CountOpenFds() == before);
}

TEST_CASE("DecodeMessageHeader refuses short, foreign and inconsistent datagrams") {
  MessageHeader header = {kMessageMagic, 1, 3, 0};
  char datagram[sizeof(header) + 3];
  memcpy(datagram, &header, sizeof(header));
  memcpy(datagram + sizeof(header), "abc", 3);
  CHECK(DecodeMessageHeader(absl::MakeConstSpan(datagram, sizeof(datagram)), 0).ok());
  CHECK_FALSE(DecodeMessageHeader(absl::MakeConstSpan(datagram, 5), 0).ok());
  CHECK_FALSE(DecodeMessageHeader(absl::MakeConstSpan(datagram, sizeof(datagram) - 1), 0).ok());
  CHECK_FALSE(DecodeMessageHeader(absl::MakeConstSpan(datagram, sizeof(datagram)), 1).ok());
  header.magic = 0x12345678;
  memcpy(datagram, &header, sizeof(header));
  CHECK_FALSE(DecodeMessageHeader(absl::MakeConstSpan(datagram, sizeof(datagram)), 0).ok());
}

TEST_CASE("SendFdMessage refuses more fds or payload than a message holds") {
  auto pair = MakeSocketPair();
  TB_REQUIRE_OK(pair);
  std::vector<int> fds(kMaxMessageFds + 1, 0);
  CHECK(SendFdMessage(pair->parent.get(), 1, "", fds).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(SendFdMessage(pair->parent.get(), 1, std::string(kMaxMessagePayload + 1, 'x')).code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tokenbox
