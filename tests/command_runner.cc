#include "tests/command_runner.h"

#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ftw.h>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ns/errno_status.h"
#include "ns/pipe.h"
#include "ns/unique_fd.h"

namespace tokenbox::testing {
namespace {

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::vector<std::string> TokenboxRunArgv(const std::vector<std::string>& options,
                                         const std::vector<std::string>& program) {
  std::vector<std::string> argv = {"tools/tokenbox", "run"};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back("--");
  argv.insert(argv.end(), program.begin(), program.end());
  return argv;
}

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options) {
  CommandResult result;
  absl::StatusOr<Pipe> in_pipe = MakePipe();
  absl::StatusOr<Pipe> out_pipe = MakePipe();
  absl::StatusOr<Pipe> err_pipe = MakePipe();
  for (const absl::StatusOr<Pipe>* pipe : {&in_pipe, &out_pipe, &err_pipe}) {
    if (!pipe->ok()) {
      result.err = std::string(pipe->status().message());
      return result;
    }
  }
  std::vector<char*> args = CStrings(argv);
  std::vector<char*> env;
  if (options.env.has_value()) env = CStrings(*options.env);
  pid_t pid = fork();
  if (pid < 0) {
    result.err = absl::StrCat("fork: ", ErrnoName(errno));
    return result;
  }
  if (pid == 0) {
    // dup2 clears close-on-exec on the copies only; the originals close at exec.
    dup2(in_pipe->read_end.get(), 0);
    dup2(out_pipe->write_end.get(), 1);
    dup2(err_pipe->write_end.get(), 2);
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
  // The child holds its own copies; ours must close so that its exit reads as end-of-file.
  in_pipe->read_end.Reset();
  out_pipe->write_end.Reset();
  err_pipe->write_end.Reset();
  if (!options.stdin_data.empty()) {
    (void)!write(in_pipe->write_end.get(), options.stdin_data.data(), options.stdin_data.size());
  }
  in_pipe->write_end.Reset();

  absl::Time deadline = absl::Now() + options.timeout;
  UniqueFd* streams[2] = {&out_pipe->read_end, &err_pipe->read_end};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_streams = 2;
  while (open_streams > 0) {
    int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left_ms <= 0) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    // poll() ignores negative fds: a stream already closed below drops out by itself.
    pollfd fds[2] = {{streams[0]->get(), POLLIN, 0}, {streams[1]->get(), POLLIN, 0}};
    int ready = poll(fds, 2, static_cast<int>(left_ms));
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (!streams[i]->valid() || fds[i].revents == 0) continue;
      char buffer[4096];
      ssize_t n = read(streams[i]->get(), buffer, sizeof(buffer));
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        streams[i]->Reset();
        --open_streams;
      }
    }
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
  // Not under /tmp, /var/tmp, /dev/shm or /run: each sandbox has its own of those.
  std::string templ = "/var/lib/tokenbox-stage-XXXXXX";
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
  // Tests make directories in it too (a root-only one, shared ones): remove the whole tree,
  // deepest first, without following a symlink a sandbox may have left.
  nftw(dir_.c_str(),
       [](const char* path, const struct stat*, int type, FTW*) {
         (void)(type == FTW_DP ? rmdir(path) : unlink(path));
         return 0;  // Go on: remove what can be.
       },
       16, FTW_DEPTH | FTW_PHYS);
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
