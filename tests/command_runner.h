#ifndef TOKENBOX_TESTS_COMMAND_RUNNER_H_
#define TOKENBOX_TESTS_COMMAND_RUNNER_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace tokenbox::testing {

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal.
  int signal = 0;
  bool timed_out = false;
  std::string out;
  std::string err;
};

struct CommandOptions {
  absl::Duration timeout = absl::Seconds(60);
  std::optional<uid_t> uid;  // Run as this uid and gid (and no supplementary groups).
  std::optional<std::vector<std::string>> env;  // Replaces the environment when set.
  std::string stdin_data;
};

// Runs `argv` (argv[0] is a path) and collects its output. A command that outlives the timeout
// is killed with SIGKILL and reported as timed out. Never leaves a zombie.
CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options = {});

// The argv of `tokenbox run OPTIONS -- PROGRAM`, with the tokenbox a test has in its runfiles
// (data = ["//tools:tokenbox"]).
std::vector<std::string> TokenboxRunArgv(const std::vector<std::string>& options,
                                         const std::vector<std::string>& program);

// `a`, then `b`: for option lists put together.
std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b);

// Copies files into a fresh directory under /var/lib that every user can search, so that the
// sandbox's unprivileged user can run and read them (Bazel's output tree lives under root's
// home, which it cannot enter; each sandbox has a /tmp of its own). Removes the directory and
// its files when destroyed.
class StagedFiles {
 public:
  explicit StagedFiles(const std::vector<std::string>& paths = {});
  ~StagedFiles();
  StagedFiles(const StagedFiles&) = delete;
  StagedFiles& operator=(const StagedFiles&) = delete;

  const std::string& dir() const { return dir_; }
  // The staged copy of a file given by its base name.
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  // Writes a new file into the directory and returns its path.
  std::string Write(const std::string& name, const std::string& content, int mode);

 private:
  std::string dir_;
};

}  // namespace tokenbox::testing

#endif  // TOKENBOX_TESTS_COMMAND_RUNNER_H_
