// tokenboxd: launches delegated BPF sandboxes for users who are not root, as a root launcher
// would, within what the administrator's policy grants each (sandbox/service).
#include <linux/capability.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/unique_fd.h"
#include "sandbox/service/grant_policy.h"
#include "sandbox/service/service_client.h"
#include "sandbox/service/service_listener.h"
#include "sandbox/service/service_session.h"
#include "token/capability_set.h"
#include "token/process_capabilities.h"
#include "tools/commands.h"
#include "tools/option_parser.h"
#include "tools/option_values.h"

namespace tokenbox {
namespace {

constexpr int kExitUsage = 2;
constexpr int kExitFailure = 1;

constexpr char kUsage[] = R"(Usage: tokenboxd [--socket=PATH] [--policy=FILE]

Launches delegated BPF sandboxes for users who are not root, in their place: tokenbox run,
tokenbox fuzz, the library's Launch() and fork server and the tokenbox_test rule ask it when
they are not root. Each request gets what a root launch gets (a leased host uid, every
namespace, the filesystem view, cgroups and limits), and only what the policy file grants its
caller: a user's identity comes from the kernel, never from the caller. It runs as root, in
the foreground, and logs one line per request to stderr.

Options:
  --socket=PATH   where to listen (default /run/tokenbox/tokenboxd.sock); under systemd's
                  socket activation (tokenboxd.socket) the socket it is given instead
  --policy=FILE   the grants (default /etc/tokenbox/delegation.conf), read for each request:
                  root's, writable by no one else; `tokenbox policy check` validates one
  --request-timeout=DURATION
                  how long a caller may take over each message of its request before it is
                  dropped (default 10s)
  --help          print this help

Exit status: 1 when it cannot start (not root, the socket), 2 on a usage error.
(tokenboxd policy ... is tokenbox policy, which tokenbox hands over to it.)
)";

// What tokenboxd keeps of root's capabilities, for itself and for what it starts before a
// sandbox has a user namespace of its own: making namespaces, mounts and the delegated bpffs
// (CAP_SYS_ADMIN), becoming the leased user (CAP_SETUID, CAP_SETGID), writing the sandbox's id
// maps, which belong to that user (CAP_DAC_OVERRIDE), and ending what a sandbox left
// (CAP_KILL).
const CapabilitySet kKept =
    CapabilitySet::Of({CAP_SYS_ADMIN, CAP_SETUID, CAP_SETGID, CAP_DAC_OVERRIDE, CAP_KILL});

void Log(absl::string_view line) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  std::fprintf(stderr, "tokenboxd: %.*s\n", static_cast<int>(line.size()), line.data());
  std::fflush(stderr);
}

int Fail(absl::string_view message) {
  Log(message);
  return kExitFailure;
}

// The socket systemd passed (LISTEN_FDS, for this process by LISTEN_PID), if it passed one.
absl::StatusOr<std::optional<int>> ActivatedSocket() {
  const char* pid_text = getenv("LISTEN_PID");
  const char* fds_text = getenv("LISTEN_FDS");
  if (pid_text == nullptr || fds_text == nullptr) return std::nullopt;
  int pid = 0, fds = 0;
  if (!absl::SimpleAtoi(pid_text, &pid) || pid != getpid()) return std::nullopt;
  if (!absl::SimpleAtoi(fds_text, &fds) || fds != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("systemd passed ", fds_text, " sockets; tokenboxd.socket passes one"));
  }
  constexpr int kFirstPassedFd = 3;  // SD_LISTEN_FDS_START.
  int type = 0;
  socklen_t length = sizeof(type);
  if (getsockopt(kFirstPassedFd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 ||
      type != SOCK_SEQPACKET) {
    return absl::InvalidArgumentError(
        "the socket systemd passed is not SOCK_SEQPACKET (ListenSequentialPacket=)");
  }
  return kFirstPassedFd;
}

int Main(int argc, char** argv) {
  // `tokenbox policy`, handed over: it needs NSS, and neither root nor the daemon's set-up.
  if (argc >= 2 && std::strcmp(argv[1], "policy") == 0) return PolicyCommand(argc - 1, argv + 1);
  enum { kOptSocket = 1, kOptPolicy, kOptRequestTimeout, kOptHelp };
  static constexpr OptionSpec kSpecs[] = {{"socket", 1, kOptSocket},
                                          {"policy", 1, kOptPolicy},
                                          {"request-timeout", 1, kOptRequestTimeout},
                                          {"help", 0, kOptHelp}};
  absl::StatusOr<CommandLine> line = ParseCommandLine(argc, argv, kSpecs);
  if (!line.ok()) {
    Log(absl::StrCat(line.status().message(), " (see tokenboxd --help)"));
    return kExitUsage;
  }
  std::string socket_path = kDefaultServiceSocket;
  ServiceConfig config;
  for (const ParsedOption& option : line->options) {
    if (option.id == kOptHelp) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (option.id == kOptSocket) socket_path = option.value;
    if (option.id == kOptPolicy) config.policy_path = option.value;
    if (option.id == kOptRequestTimeout) {
      absl::StatusOr<absl::Duration> timeout = ParseTimeout(option.value);
      if (!timeout.ok() || *timeout <= absl::ZeroDuration()) {
        Log(absl::StrCat("--request-timeout: '", Printable(option.value),
                         "' is not a duration (see tokenboxd --help)"));
        return kExitUsage;
      }
      config.request_timeout = *timeout;
    }
  }
  if (!line->operands.empty()) {
    Log(absl::StrCat("unexpected argument '", Printable(line->operands[0]),
                     "' (see tokenboxd --help)"));
    return kExitUsage;
  }
  absl::StatusOr<std::optional<int>> activated = ActivatedSocket();
  if (!activated.ok()) return Fail(activated.status().message());
  // Nothing of the environment it was started with is used, nor any fd it inherited but stdio
  // and the socket it is given.
  clearenv();
  const int keep_from = activated->has_value() ? **activated + 1 : 3;
  if (syscall(SYS_close_range, keep_from, ~0u, 0) != 0) {
    return Fail(ErrnoStatus(errno, "close_range").message());
  }
  umask(022);
  signal(SIGPIPE, SIG_IGN);
  // Not dumpable: no core file of root's memory, and no ptrace by a process of the same uid.
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return Fail(ErrnoStatus(errno, "prctl(PR_SET_DUMPABLE, 0)").message());
  }
  if (std::string why = WhyCannotDelegate(); !why.empty()) {
    return Fail(absl::StrCat(why, ": tokenboxd runs as root, which delegating a bpffs needs"));
  }
  if (absl::Status s = KeepOnlyCapabilities(kKept); !s.ok()) return Fail(s.message());
  UniqueFd listening;
  if (activated->has_value()) {
    listening = UniqueFd(**activated);
    socket_path = "the socket systemd passed";
  } else {
    absl::StatusOr<UniqueFd> made = ListenAt(socket_path);
    if (!made.ok()) return Fail(made.status().message());
    listening = *std::move(made);
  }
  config.log = Log;
  Log(absl::StrCat("listening on ", socket_path, ", granting by ", config.policy_path,
                   ", keeping ", kKept.ToString()));
  absl::Status served = ServeCallers(listening.get(), config, ListenerLimits());
  return Fail(served.message());
}

}  // namespace
}  // namespace tokenbox

int main(int argc, char** argv) { return tokenbox::Main(argc, argv); }
