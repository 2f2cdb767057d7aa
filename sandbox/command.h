#ifndef TOKENBOX_SANDBOX_COMMAND_H_
#define TOKENBOX_SANDBOX_COMMAND_H_

#include <sys/ioctl.h>
#include <sys/resource.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ns/unique_fd.h"

namespace tokenbox {

struct ResourceLimit {
  int resource;  // RLIMIT_*
  rlim_t soft;
  rlim_t hard;
};

// An fd of the launcher that the sandboxed program gets at `target`. The command (and its
// builder) own a duplicate until they are destroyed, so a pipe passed this way reaches
// end-of-file only after both are gone.
struct PassedFd {
  std::shared_ptr<UniqueFd> fd;
  int target;
};

// What runs in a sandbox (sandbox/sandbox.h), and with what: a program or a function, its
// environment, working directory, resource limits, timeout and fds. Made only by
// CommandBuilder::Build(), so every Command in existence is consistent.
class Command {
 public:
  enum class Kind {
    kProgram,             // argv()[0] is a path, or a name searched in the sandbox's PATH.
    kFunction,            // function() is called in the sandboxed child after set-up.
    kForkServerFunction,  // A fork server's launch: the function it was started with.
  };
  Kind kind() const { return kind_; }
  const std::vector<std::string>& argv() const { return argv_; }
  // A function's return value is the sandbox's exit code.
  const std::function<int()>& function() const { return function_; }

  // The environment the program starts with, before tokenbox adds TOKENBOX_TOKEN_FD and
  // LIBBPF_BPF_TOKEN_PATH.
  const std::vector<std::string>& environment() const { return environment_; }
  // Where the program starts, when the command names it; it must be entered.
  const std::optional<std::string>& working_directory() const { return working_directory_; }
  // Otherwise: the launcher's working directory when the command was built, entered by path
  // as the sandbox's user, or / when that user may not enter it or it does not exist inside.
  const std::string& launcher_directory() const { return launcher_directory_; }
  const std::vector<ResourceLimit>& resource_limits() const { return resource_limits_; }
  // Counted from the launch; a sandbox still running then is killed.
  std::optional<absl::Duration> timeout() const { return timeout_; }
  const std::vector<PassedFd>& passed_fds() const { return passed_fds_; }
  // Whether the terminal at fd 0 becomes the program's controlling terminal (Terminal(),
  // OwnTerminal()).
  bool controlling_terminal() const { return controlling_terminal_; }
  // The window size of a terminal the sandbox opens for the program (OwnTerminal()), if any.
  const std::optional<winsize>& own_terminal() const { return own_terminal_; }

 private:
  friend class CommandBuilder;
  friend class CommandCodec;
  Command() = default;

  Kind kind_ = Kind::kProgram;
  std::vector<std::string> argv_;
  std::function<int()> function_;
  std::vector<std::string> environment_;
  std::optional<std::string> working_directory_;
  std::string launcher_directory_ = "/";
  std::vector<ResourceLimit> resource_limits_;
  std::optional<absl::Duration> timeout_;
  std::vector<PassedFd> passed_fds_;
  bool controlling_terminal_ = false;
  std::optional<winsize> own_terminal_;
};

// Builds a Command fluently; Build() reports every inconsistency at once, as one error.
//
//   absl::StatusOr<Command> command = CommandBuilder()
//       .Program({"/usr/sbin/bpftool", "prog", "load", "x.bpf.o", "/sys/fs/bpf/x"})
//       .Timeout(absl::Seconds(30))
//       .Build();
//
// Defaults: the launcher's environment; the launcher's working directory, re-entered by path
// as the sandbox's user (never inherited as an open directory), else /; no resource limit
// changed, no timeout, and no fd passed but 0-2.
class CommandBuilder {
 public:
  CommandBuilder& Program(std::vector<std::string> argv);
  // Runs `function` in the child once the sandbox is set up, in place of exec. The child was
  // forked from the launcher, which may have had other threads: the function may use what
  // glibc keeps usable after fork (malloc, stdio), but must not take a lock that another thread
  // of the launcher could have held, nor wait for such a thread.
  CommandBuilder& Function(std::function<int()> function);
  // For ForkServer::Launch(): runs the function the fork server was started with. A callable
  // cannot be carried into a sandbox prepared earlier.
  CommandBuilder& ForkServerFunction();

  // Start from an empty environment; SetEnv() adds to it whether it comes before or after.
  CommandBuilder& ClearEnvironment();
  CommandBuilder& SetEnv(const std::string& key, const std::string& value);
  CommandBuilder& UnsetEnv(const std::string& key);
  CommandBuilder& WorkingDirectory(std::string path);

  CommandBuilder& ResourceLimitOf(int resource, rlim_t soft, rlim_t hard);
  CommandBuilder& Timeout(absl::Duration timeout);
  // Gives the program a duplicate of `fd` at fd number `target`.
  CommandBuilder& PassFd(int fd, int target);
  // Gives the program the terminal `fd` (say the other end of a pseudo-terminal the launcher
  // relays, as `tokenbox run --pty` does) as its stdin, stdout and stderr, and as the
  // controlling terminal of a session of its own, so that a shell inside gets job control
  // and ^C from it. The launcher's own terminal is then out of its reach.
  CommandBuilder& Terminal(int fd);
  // Like Terminal(), with a pseudo-terminal that the sandbox opens on its own devpts instance,
  // `size` large, so that its name resolves inside (tty(1), ttyname()) and the host's pool of
  // pseudo-terminals is not used. Child::TakeTerminal() gives the launcher its primary end.
  CommandBuilder& OwnTerminal(winsize size);

  absl::StatusOr<Command> Build();

 private:
  void Fail(std::string problem) { problems_.push_back(std::move(problem)); }
  void SetKind(Command::Kind kind);

  Command command_;
  int kinds_given_ = 0;
  bool inherit_environment_ = true;
  std::map<std::string, std::optional<std::string>> environment_changes_;
  std::vector<std::string> problems_;
};

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_COMMAND_H_
