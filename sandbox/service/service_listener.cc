#include "sandbox/service/service_listener.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"
#include "ns/start_thread.h"
#include "ns/unique_fd.h"
#include "sandbox/protocol.h"
#include "sandbox/setup_step.h"

namespace tokenbox {
namespace {

// The connections being served, in all and by uid.
class ConnectionCount {
 public:
  explicit ConnectionCount(const ListenerLimits& limits) : limits_(limits) {}

  // Empty when `uid` may have one more; else why not.
  std::string TryTake(uid_t uid) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (total_ >= limits_.connections) {
      return absl::StrCat("tokenboxd serves at most ", limits_.connections, " callers at once");
    }
    if (by_uid_[uid] >= limits_.per_user) {
      return absl::StrCat("tokenboxd serves at most ", limits_.per_user,
                          " sandboxes of one user at once");
    }
    ++total_;
    ++by_uid_[uid];
    return "";
  }
  void Give(uid_t uid) {
    std::lock_guard<std::mutex> lock(mutex_);
    --total_;
    if (--by_uid_[uid] == 0) by_uid_.erase(uid);
  }

 private:
  const ListenerLimits limits_;
  std::mutex mutex_;
  size_t total_ = 0;
  std::map<uid_t, size_t> by_uid_;
};

}  // namespace

absl::StatusOr<UniqueFd> ListenAt(const std::string& path) {
  sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  if (path.empty() || path[0] != '/' || path.size() >= sizeof(address.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the socket path must be absolute and shorter than ", sizeof(address.sun_path),
                     " bytes: ", Printable(path)));
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  const std::string dir = path.substr(0, std::max<size_t>(path.rfind('/'), 1));
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, absl::StrCat("mkdir(", dir, ")"));
  }
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::AlreadyExistsError(
          absl::StrCat(path, " exists and is not a socket: remove it, or give --socket"));
    }
    unlink(path.c_str());  // A dead daemon's.
  }
  UniqueFd sock(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!sock) return ErrnoStatus(errno, "socket(AF_UNIX, SOCK_SEQPACKET)");
  if (bind(sock.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return ErrnoStatus(errno, absl::StrCat("bind(", path, ")"));
  }
  if (chmod(path.c_str(), 0666) != 0) return ErrnoStatus(errno, absl::StrCat("chmod(", path, ")"));
  if (listen(sock.get(), 128) != 0) return ErrnoStatus(errno, "listen");
  return sock;
}

absl::Status ServeCallers(int listen_fd, const ServiceConfig& config, const ListenerLimits& limits) {
  // Shared with every connection's thread, which may outlive a return from here.
  static ConnectionCount* count = new ConnectionCount(limits);
  for (;;) {
    UniqueFd connection(accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
    if (!connection) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE ||
          errno == ENOBUFS || errno == ENOMEM) {
        if (errno != EINTR && errno != ECONNABORTED) usleep(10000);  // Out of fds: let some go.
        continue;
      }
      return ErrnoStatus(errno, "accept4");
    }
    ucred cred = {};
    socklen_t length = sizeof(cred);
    if (getsockopt(connection.get(), SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0) {
      const absl::Status unnamed = ErrnoStatus(errno, "getsockopt(SO_PEERCRED)");
      (void)SendFdMessage(connection.get(), kServiceRefused,
                          EncodeSetupFailure(SetupFailure(SetupStep::kAskService, unnamed)));
      if (config.log) config.log(absl::StrCat("a caller tokenboxd cannot name: ", unnamed.message()));
      continue;
    }
    if (std::string why = count->TryTake(cred.uid); !why.empty()) {
      (void)SendFdMessage(connection.get(), kServiceRefused,
                          EncodeSetupFailure(SetupFailure(SetupStep::kAskService,
                                                          absl::ResourceExhaustedError(why))));
      if (config.log) config.log(absl::StrCat("uid ", cred.uid, " pid ", cred.pid, ": refused: ", why));
      continue;
    }
    // Shared, so that the caller is still told why when no thread can serve it.
    auto shared = std::make_shared<UniqueFd>(std::move(connection));
    absl::StatusOr<std::thread> serving = StartThread([shared, &config, uid = cred.uid] {
      ServiceSession::Serve(std::move(*shared), config);
      count->Give(uid);
    });
    if (!serving.ok()) {
      count->Give(cred.uid);
      (void)SendFdMessage(shared->get(), kServiceRefused,
                          EncodeSetupFailure(SetupFailure(SetupStep::kAskService, serving.status())));
      if (config.log) {
        config.log(absl::StrCat("uid ", cred.uid, " pid ", cred.pid,
                                ": refused: no thread to serve it: ", serving.status().message()));
      }
      continue;
    }
    serving->detach();
  }
}

}  // namespace tokenbox
