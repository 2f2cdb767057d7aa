#ifndef TOKENBOX_SANDBOX_CHILD_START_H_
#define TOKENBOX_SANDBOX_CHILD_START_H_

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sandbox/child.h"
#include "sandbox/child_process.h"
#include "sandbox/setup_progress.h"

namespace tokenbox {

// What the launcher waits for the child to confirm: a fork server's zygote is ready, or the
// program (or function) runs, having first sent a terminal of its own when the command asked
// for one.
enum class ExpectedStart { kZygote, kProgram, kProgramWithOwnTerminal };

// The launcher's side of a sandbox's start from the fork of its first process (by Launch() or
// ForkServer::Start(), or a zygote's clone for a fork-server launch) until it runs: one tail
// for every launch path.
class ChildStart {
 public:
  // `process` holds what the caller knows of the child (pid, deadline, what it holds for it);
  // this adds its pidfd and holds it all in a Child, which, should a later step fail, kills and
  // reaps it and gives back what it held. `shares_callers_terminal`: the child shares the
  // caller's session in a process group of its own, which this makes and gives the terminal's
  // foreground when the caller holds it. Then `handshake` does what the launcher must for the
  // child before it can start (delegate its bpffs, or move it into a cgroup), and the child's
  // terminal (if expected) and confirmation are awaited on `sock`, each at most
  // `setup_timeout`; the start is noted on `steps` under --verbose.
  static absl::StatusOr<Child> Await(const LauncherSteps& steps,
                                     std::unique_ptr<ChildProcess> process,
                                     bool shares_callers_terminal, int sock, ExpectedStart expect,
                                     absl::Duration setup_timeout,
                                     const std::function<absl::Status()>& handshake);
  // A Child for a sandbox tokenboxd started and serves on `process->service`.
  static Child Adopt(std::unique_ptr<ChildProcess> process);
};

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_START_H_
