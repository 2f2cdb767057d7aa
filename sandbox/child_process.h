#ifndef TOKENBOX_SANDBOX_CHILD_PROCESS_H_
#define TOKENBOX_SANDBOX_CHILD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>

#include "absl/time/time.h"
#include "ns/unique_fd.h"
#include "sandbox/caller_stdio.h"
#include "sandbox/host_resources/host_id_lease.h"
#include "sandbox/host_resources/sandbox_cgroup.h"

namespace tokenbox {

// What the launcher holds of a sandbox's first process, from its fork until it is reaped. A
// Child (sandbox/child.h) owns one; it is kept out of that public header, as its parts are the
// launcher's own.
struct ChildProcess {
  pid_t pid = -1;
  UniqueFd pidfd;
  // Without a pid namespace the sandbox is its own process group, and ending it means killing
  // the group.
  bool kill_process_group = false;
  std::optional<absl::Duration> deadline;  // On MonotonicNow()'s clock (LaunchDeadline()).
  bool owns_terminal = false;              // The sandbox was given the terminal's foreground.
  CallerStdio caller_stdio;                // Put back once the sandbox is reaped.
  // Given back (by this process's Child, if it holds them last) once the sandbox is reaped.
  std::shared_ptr<const HostIdLease> host_ids;
  // Removed (likewise) once the sandbox is reaped, after the above.
  std::shared_ptr<const SandboxCgroup> cgroup;
  // Where the sandbox's pid 1 reports the program's wait status before it exits (non-blocking;
  // none without a pid namespace): pid 1 itself cannot end by the program's signal.
  UniqueFd program_status;
  // The primary end of the program's own pseudo-terminal, until the caller takes it.
  UniqueFd terminal;
  // A sandbox that tokenboxd started for this launcher, which is not root
  // (sandbox/service/service_protocol.h): the socket it is served on. tokenboxd waits for it and
  // reports its end there; `pid` and `pidfd` name it but are not this process's child.
  UniqueFd service;
};

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_PROCESS_H_
