#include "tools/bench/unprivileged_caller.h"

#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <future>
#include <utility>

#include "tools/bench/spawn.h"

namespace tokenbox {

std::optional<UnprivilegedCaller> UnprivilegedCaller::Start(const std::string& tokenbox,
                                                            const std::string& tokenboxd,
                                                            const std::string& grant) {
  UnprivilegedCaller caller;
  char dir[] = "/var/lib/tokenbox-bench-XXXXXX";
  if (mkdtemp(dir) == nullptr) return std::nullopt;
  caller.dir_ = dir;
  chmod(dir, 0755);
  if (!SpawnAndWait({"/usr/sbin/useradd", "-M", "-s", "/bin/false", kUser})) {
    std::fprintf(stderr, "launch_bench: useradd %s failed (left by an earlier run?)\n", kUser);
    return std::nullopt;
  }
  caller.made_user_ = true;
  passwd* entry = getpwnam(kUser);
  if (entry == nullptr) return std::nullopt;
  caller.uid_ = entry->pw_uid;
  caller.tokenbox_ = caller.dir_ + "/tokenbox";
  if (!SpawnAndWait({"/usr/bin/install", "-m", "755", tokenbox, caller.tokenbox_})) {
    return std::nullopt;
  }
  const std::string policy = caller.dir_ + "/delegation.conf";
  std::ofstream(policy) << kUser << " " << grant << "\n";
  chmod(policy.c_str(), 0644);
  caller.socket_ = caller.dir_ + "/tokenboxd.sock";
  int log[2];
  if (pipe(log) != 0) return std::nullopt;
  caller.daemon_ = fork();
  if (caller.daemon_ == 0) {
    dup2(log[1], 2);
    const std::string socket_option = "--socket=" + caller.socket_;
    const std::string policy_option = "--policy=" + policy;
    execl(tokenboxd.c_str(), "tokenboxd", socket_option.c_str(), policy_option.c_str(),
          nullptr);
    _exit(127);
  }
  close(log[1]);
  // Its log is drained for the whole run (a line a request), and its first line awaited.
  std::promise<std::string> first_line;
  std::future<std::string> listening = first_line.get_future();
  caller.log_reader_ = std::thread([fd = log[0], promise = std::move(first_line)]() mutable {
    std::string line;
    bool told = false;
    char c;
    while (read(fd, &c, 1) == 1) {
      if (!told && c == '\n') {
        promise.set_value(line);
        told = true;
      }
      if (!told) line += c;
    }
    if (!told) promise.set_value(line);
    close(fd);
  });
  const std::string first = listening.get();
  if (first.find("listening on " + caller.socket_) == std::string::npos) {
    std::fprintf(stderr, "launch_bench: tokenboxd did not start: %s\n", first.c_str());
    return std::nullopt;
  }
  return caller;
}


UnprivilegedCaller& UnprivilegedCaller::operator=(UnprivilegedCaller&& other) noexcept {
  std::swap(dir_, other.dir_);
  std::swap(made_user_, other.made_user_);
  std::swap(uid_, other.uid_);
  std::swap(tokenbox_, other.tokenbox_);
  std::swap(socket_, other.socket_);
  std::swap(daemon_, other.daemon_);
  std::swap(log_reader_, other.log_reader_);
  return *this;
}

UnprivilegedCaller::~UnprivilegedCaller() {
  if (daemon_ > 0) {
    kill(daemon_, SIGTERM);
    waitpid(daemon_, nullptr, 0);
  }
  if (log_reader_.joinable()) log_reader_.join();
  if (made_user_) SpawnAndWait({"/usr/sbin/userdel", kUser});
  if (!dir_.empty()) SpawnAndWait({"/bin/rm", "-rf", dir_});
}


std::vector<std::string> UnprivilegedCaller::Environment() const {
  return {"PATH=/usr/bin:/bin", "TOKENBOX_SERVICE_SOCKET=" + socket_};
}

}  // namespace tokenbox
