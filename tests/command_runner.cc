#include "tests/command_runner.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace tokenbox::testing {
namespace {

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options) {
  CommandResult result;
  int out_pipe[2], err_pipe[2], in_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0 ||
      pipe2(in_pipe, O_CLOEXEC) != 0) {
    result.err = "pipe2 failed";
    return result;
  }
  std::vector<char*> args = CStrings(argv);
  std::vector<char*> env;
  if (options.env.has_value()) env = CStrings(*options.env);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    if (options.uid.has_value()) {
      if (setgroups(0, nullptr) != 0 || setresgid(*options.uid, *options.uid, *options.uid) != 0 ||
          setresuid(*options.uid, *options.uid, *options.uid) != 0) {
        _exit(200);
      }
    }
    if (options.env.has_value()) {
      execve(args[0], args.data(), env.data());
    } else {
      execv(args[0], args.data());
    }
    _exit(errno == ENOENT ? 127 : 126);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (!options.stdin_data.empty()) {
    (void)!write(in_pipe[1], options.stdin_data.data(), options.stdin_data.size());
  }
  close(in_pipe[1]);

  absl::Time deadline = absl::Now() + options.timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_streams = 2;
  while (open_streams > 0) {
    int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left_ms <= 0) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    int ready = poll(fds, 2, static_cast<int>(left_ms));
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_streams;
      }
    }
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) close(p.fd);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

StagedFiles::StagedFiles(const std::vector<std::string>& paths) {
  std::string templ = "/tmp/tokenbox-stage-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) return;
  dir_ = templ;
  chmod(dir_.c_str(), 0755);
  for (const std::string& source : paths) {
    std::string name = source.substr(source.rfind('/') + 1);
    std::ifstream in(source, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    Write(name, content.str(), 0755);
  }
}

StagedFiles::~StagedFiles() {
  if (dir_.empty()) return;
  if (DIR* dir = opendir(dir_.c_str())) {
    while (dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') unlink(path(entry->d_name).c_str());
    }
    closedir(dir);
  }
  rmdir(dir_.c_str());
}

std::string StagedFiles::Write(const std::string& name, const std::string& content, int mode) {
  std::string target = path(name);
  {
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    out << content;
  }
  chmod(target.c_str(), static_cast<mode_t>(mode));
  return target;
}

}  // namespace tokenbox::testing
