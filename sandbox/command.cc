#include "sandbox/command.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ns/errno_status.h"
#include "sandbox/kernel_path.h"

extern char** environ;

namespace tokenbox {
namespace {

bool ValidEnvKey(const std::string& key) {
  return !key.empty() && key.find('=') == std::string::npos && key.find('\0') == std::string::npos;
}

}  // namespace

void CommandBuilder::SetKind(Command::Kind kind) {
  command_.kind_ = kind;
  ++kinds_given_;
}

CommandBuilder& CommandBuilder::Program(std::vector<std::string> argv) {
  SetKind(Command::Kind::kProgram);
  command_.argv_ = std::move(argv);
  return *this;
}

CommandBuilder& CommandBuilder::Function(std::function<int()> function) {
  SetKind(Command::Kind::kFunction);
  command_.function_ = std::move(function);
  return *this;
}

CommandBuilder& CommandBuilder::ForkServerFunction() {
  SetKind(Command::Kind::kForkServerFunction);
  return *this;
}

CommandBuilder& CommandBuilder::ClearEnvironment() {
  // Order-free, like the other settings: SetEnv() before or after it adds to the empty start.
  inherit_environment_ = false;
  return *this;
}

CommandBuilder& CommandBuilder::SetEnv(const std::string& key, const std::string& value) {
  if (!ValidEnvKey(key)) {
    Fail(absl::StrCat("environment variable name '", Printable(key), "' is invalid"));
  }
  environment_changes_[key] = value;
  return *this;
}

CommandBuilder& CommandBuilder::UnsetEnv(const std::string& key) {
  if (!ValidEnvKey(key)) {
    Fail(absl::StrCat("environment variable name '", Printable(key), "' is invalid"));
  }
  environment_changes_[key] = std::nullopt;
  return *this;
}

CommandBuilder& CommandBuilder::WorkingDirectory(std::string path) {
  CheckKernelPath("working directory", path, problems_);
  command_.working_directory_ = std::move(path);
  return *this;
}

CommandBuilder& CommandBuilder::ResourceLimitOf(int resource, rlim_t soft, rlim_t hard) {
  if (resource < 0 || resource >= RLIM_NLIMITS) {
    Fail(absl::StrCat("resource limit ", resource, " does not exist"));
  } else if (soft > hard) {
    Fail(absl::StrCat("resource limit ", resource, ": soft ", soft, " exceeds hard ", hard));
  }
  command_.resource_limits_.push_back({resource, soft, hard});
  return *this;
}

CommandBuilder& CommandBuilder::Timeout(absl::Duration timeout) {
  if (timeout <= absl::ZeroDuration()) {
    Fail(absl::StrCat("timeout ", absl::FormatDuration(timeout), " must be positive"));
  } else if (timeout > absl::Hours(24 * 365)) {
    Fail(absl::StrCat("timeout ", absl::FormatDuration(timeout), " is longer than a year"));
  }
  command_.timeout_ = timeout;
  return *this;
}

CommandBuilder& CommandBuilder::PassFd(int fd, int target) {
  if (target < 0) {
    Fail(absl::StrCat("target fd ", target, " is negative"));
    return *this;
  }
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) {
    Fail(absl::StrCat("fd ", fd, " to pass at ", target, ": ", ErrnoName(errno)));
    return *this;
  }
  command_.passed_fds_.push_back({std::make_shared<UniqueFd>(copy), target});
  return *this;
}

CommandBuilder& CommandBuilder::Terminal(int fd) {
  if (!isatty(fd)) {
    Fail(absl::StrCat("fd ", fd, " given as the program's terminal is not a terminal"));
    return *this;
  }
  for (int target : {0, 1, 2}) PassFd(fd, target);
  command_.controlling_terminal_ = true;
  return *this;
}

CommandBuilder& CommandBuilder::OwnTerminal(winsize size) {
  command_.own_terminal_ = size;
  command_.controlling_terminal_ = true;
  return *this;
}

absl::StatusOr<Command> CommandBuilder::Build() {
  std::vector<std::string> problems = problems_;
  if (kinds_given_ == 0) {
    problems.push_back("nothing to run: give a program or a function");
  } else if (kinds_given_ > 1) {
    problems.push_back("more than one of a program and a function were given; give one");
  } else if (command_.kind_ == Command::Kind::kProgram && command_.argv_.empty()) {
    problems.push_back("the program has no argv");
  } else if (command_.kind_ == Command::Kind::kProgram && command_.argv_[0].empty()) {
    problems.push_back("the program path is empty");
  } else if (command_.kind_ == Command::Kind::kFunction && !command_.function_) {
    problems.push_back("the function is empty");
  }
  std::set<int> targets;
  for (const PassedFd& passed : command_.passed_fds_) {
    if (!targets.insert(passed.target).second) {
      problems.push_back(absl::StrCat("two fds are passed at fd ", passed.target));
    }
    if (command_.own_terminal_.has_value() && passed.target <= 2) {
      problems.push_back(absl::StrCat("fd ", passed.target, " is passed, and also the sandbox's "
                                      "own terminal (OwnTerminal()) as fds 0-2: give one"));
    }
  }
  if (!problems.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid command: ", absl::StrJoin(problems, "; ")));
  }
  std::map<std::string, std::string> environment;
  if (inherit_environment_) {
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
      const char* eq = strchr(*entry, '=');
      if (eq != nullptr) environment[std::string(*entry, static_cast<size_t>(eq - *entry))] = eq + 1;
    }
  }
  for (const auto& [key, value] : environment_changes_) {
    if (value.has_value()) {
      environment[key] = *value;
    } else {
      environment.erase(key);
    }
  }
  command_.environment_.clear();
  for (const auto& [key, value] : environment) {
    command_.environment_.push_back(absl::StrCat(key, "=", value));
  }
  // A working directory that getcwd() cannot name (deleted, or outside this root) is /.
  char cwd[PATH_MAX];
  command_.launcher_directory_ = getcwd(cwd, sizeof(cwd)) != nullptr && cwd[0] == '/' ? cwd : "/";
  return command_;
}

}  // namespace tokenbox
