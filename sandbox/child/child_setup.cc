#include "sandbox/child/child_setup.h"

#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "ns/fd_passing.h"
#include "sandbox/child/bind_source.h"
#include "sandbox/child/cgroup_entry.h"
#include "sandbox/child/child_bpffs.h"
#include "sandbox/child/child_namespaces.h"
#include "sandbox/child/exec_program.h"
#include "sandbox/child/fd_layout.h"
#include "sandbox/child/filesystem_view.h"
#include "sandbox/child/kernel_mounts.h"
#include "sandbox/child/parent_death.h"
#include "sandbox/child/pid_namespace_init.h"
#include "sandbox/child/program_environment.h"
#include "sandbox/child/resource_limits.h"
#include "sandbox/child/run_function.h"
#include "sandbox/child/seccomp_install.h"
#include "sandbox/child/session_keyring.h"
#include "sandbox/child/signals.h"
#include "sandbox/child/terminal_isolation.h"
#include "sandbox/child/working_directory.h"
#include "sandbox/protocol.h"
#include "token/process_capabilities.h"
#include "token/token.h"

namespace tokenbox {
namespace {

// One child's way from a copy of the launcher to the sandboxed program.
class ChildSetup {
 public:
  ChildSetup(const Sandbox& sandbox, const ChildContext& context, UniqueFd sock)
      : sandbox_(sandbox),
        context_(context),
        reporter_(std::move(sock), context.progress_fd, context.started) {}

  // Namespaces, id maps, filesystem view, delegated bpffs, token, loopback and hostname.
  UniqueFd PrepareSandbox();
  // Resource limits, the pid namespace, fds, environment, working directory, capabilities,
  // and then the program or the function. A child forked by the zygote first takes a process
  // group, and a mount namespace for its own /proc, of its own.
  [[noreturn]] void RunCommand(const Command& command, const std::function<int()>& function,
                               UniqueFd token, bool forked_by_zygote);
  // The steps of RunCommand() in the process that becomes the program, from its fds on; it must
  // not return, as it may run in memory borrowed from pid 1 (RunAsInit()).
  [[noreturn]] void StartCommand(const Command& command, const std::function<int()>& function,
                                 UniqueFd& token, const UniqueFd& own_terminal,
                                 std::optional<pid_t> parent);
  SetupReporter& reporter() { return reporter_; }

 private:
  // Out of the launcher's session, so that the program cannot reach its terminal; sharing it,
  // the child still leads a group of its own when it has no pid namespace (or
  // `always_own_group`), so that a timeout or Kill() reaches all it starts.
  void LeaveLaunchersSession(bool always_own_group) {
    if (!sandbox_.shares_session()) {
      reporter_.Step(SetupStep::kNewSession, StartOwnSession());
    } else if (always_own_group || !sandbox_.namespaces().pid) {
      reporter_.Step(SetupStep::kNewProcessGroup, StartOwnProcessGroup());
    }
  }

  // Where the bpffs and each proc are mounted: made where missing by the filesystem view.
  std::vector<std::string> MountPointsForLaterSteps() const {
    std::vector<std::string> mount_points;
    if (sandbox_.bpffs_path().has_value()) mount_points.push_back(*sandbox_.bpffs_path());
    if (sandbox_.namespaces().pid) {
      for (std::string& path : ProcMountPoints(sandbox_.filesystem())) {
        mount_points.push_back(std::move(path));
      }
    }
    return mount_points;
  }

  const Sandbox& sandbox_;
  const ChildContext& context_;
  SetupReporter reporter_;
};

UniqueFd ChildSetup::PrepareSandbox() {
  reporter_.Step(SetupStep::kResetSignals, ResetSignals(context_.forked_as_pid1));
  // A zygote's own session is what its launches leave for theirs.
  LeaveLaunchersSession(/*always_own_group=*/false);
  if (!context_.cgroup_fds.empty()) {
    reporter_.Step(SetupStep::kEnterCgroup, EnterCgroups(context_.cgroup_fds));
  }
  if (!context_.caller_limits.empty()) {
    reporter_.Step(SetupStep::kSetResourceLimits, SetResourceLimits(context_.caller_limits));
  }
  // As the launcher's copy, in the host's namespaces: what it binds is what the launcher names
  // (or, for tokenboxd, what the user who asked opened).
  absl::StatusOr<std::vector<UniqueFd>> bind_sources =
      context_.bind_sources_provided
          ? CloneProvidedBindSources(sandbox_.filesystem(), context_.bind_source_fds,
                                     context_.writable_bind_idmapping)
          : OpenBindSources(sandbox_.filesystem());
  reporter_.Step(SetupStep::kOpenBindSources, bind_sources.status());
  if (context_.forked_as_pid1) reporter_.Step(SetupStep::kMountProc, MountOwnProc());
  EnterSandboxNamespaces(reporter_, sandbox_.host_uid(), *sandbox_.gid_map()->ToOutside(0),
                         OtherNamespaceFlags(sandbox_.namespaces()), context_.setup_timeout);
  reporter_.Step(SetupStep::kArrangeFilesystemView,
                 ApplyFilesystemView(sandbox_.filesystem(), *std::move(bind_sources),
                                     MountPointsForLaterSteps(), context_.forked_as_pid1));
  reporter_.Step(SetupStep::kMountDevpts, MountOwnDevpts());
  if (sandbox_.namespaces().cgroup) reporter_.Step(SetupStep::kMountCgroupView, MountCgroupView());
  absl::StatusOr<UniqueFd> bpffs = ReceiveDelegatedBpffs(
      reporter_.sock(), context_.setup_timeout, sandbox_.bpffs_path(), sandbox_.host_uid());
  reporter_.Step(sandbox_.bpffs_path().has_value() ? SetupStep::kMountDelegatedBpffs
                                                   : SetupStep::kCreateDelegatedBpffs,
                 bpffs.status());
  absl::StatusOr<UniqueFd> token = CreateToken(bpffs->get());
  reporter_.Step(SetupStep::kCreateToken, token.status());
  if (sandbox_.namespaces().net) reporter_.Step(SetupStep::kBringUpLoopback, BringUpLoopback());
  if (sandbox_.namespaces().uts) reporter_.Step(SetupStep::kSetHostname, SetSandboxHostname());
  return *std::move(token);
}

void ChildSetup::RunCommand(const Command& command, const std::function<int()>& function,
                            UniqueFd token, bool forked_by_zygote) {
  if (forked_by_zygote) LeaveLaunchersSession(/*always_own_group=*/true);
  reporter_.Step(SetupStep::kSetResourceLimits, SetResourceLimits(command.resource_limits()));
  if (!sandbox_.shares_session_keyring()) {
    reporter_.Step(SetupStep::kJoinSessionKeyring, JoinFreshSessionKeyring(sandbox_.host_uid()));
  }
  UniqueFd own_terminal;
  if (command.own_terminal().has_value()) {
    absl::StatusOr<UniqueFd> offered = OfferOwnTerminal(reporter_.sock(), *command.own_terminal());
    reporter_.Step(SetupStep::kOpenOwnTerminal, offered.status());
    own_terminal = *std::move(offered);
  }
  if (sandbox_.namespaces().pid) {
    if (forked_by_zygote) {
      // The zygote cloned it as pid 1 of a pid namespace of its own, so that siblings and the
      // zygote cannot be signalled, traced or read through /proc by one another, and everything
      // a program forks dies with it. Its /proc needs a mount namespace of its own too: the
      // zygote's is shared.
      reporter_.Step(SetupStep::kCreateMountNamespace, UnshareMountNamespaceForProc());
      if (!sandbox_.program_is_pid1()) {
        reporter_.Step(SetupStep::kMountProc, MountProc(ProcMountPoints(sandbox_.filesystem())));
      }
    }
    // Its parent, the launcher, is outside its pid namespace.
    reporter_.Step(SetupStep::kSetParentDeathSignal,
                   SetParentDeathSignalWatching(reporter_.sock()));
    InitOptions init;
    init.program_is_pid1 = sandbox_.program_is_pid1();
    init.proc_mount_points = ProcMountPoints(sandbox_.filesystem());
    init.program_execs = command.kind() == Command::Kind::kProgram;
    init.relay_signals = !sandbox_.shares_session();
    init.deadline = context_.deadline;
    init.program_fds = {reporter_.sock(), token.get()};
    if (own_terminal) init.program_fds.push_back(own_terminal.get());
    init.program_status_fd = context_.program_status_fd;
    RunAsInit(reporter_, init, [&](std::optional<pid_t> parent) {
      StartCommand(command, function, token, own_terminal, parent);
    });
  }
  StartCommand(command, function, token, own_terminal, context_.launcher_pid);
}

void ChildSetup::StartCommand(const Command& command, const std::function<int()>& function,
                              UniqueFd& token, const UniqueFd& own_terminal,
                              std::optional<pid_t> parent) {
  const ProgramFds fds = ProgramFdsOf(command, own_terminal.get());
  reporter_.Step(SetupStep::kArrangeFds, ApplyFdLayout(PlanFdLayout(fds.targets), token, fds.sources));
  // The fd it printed on may be gone or another now; the program's stderr is where its
  // launcher's (or tokenboxd's caller's) stderr went.
  reporter_.PrintProgressOn(STDERR_FILENO);
  if (command.controlling_terminal()) {
    reporter_.Step(SetupStep::kTakeControllingTerminal, TakeControllingTerminal());
  }
  std::vector<std::string> environment = ProgramEnvironment(sandbox_, command, token.get());
  reporter_.Step(SetupStep::kChangeDirectory, EnterWorkingDirectory(command, sandbox_.host_uid()));
  reporter_.Step(SetupStep::kDropCapabilities,
                 LockCapabilitiesForExec(sandbox_.kept_capabilities()));
  reporter_.Step(SetupStep::kSetParentDeathSignal, SetParentDeathSignal(parent));
  if (context_.await_launch_cgroup) {
    // Last, so that the launcher's move overlaps the steps above; before anything that forks.
    reporter_.Step(SetupStep::kWaitForLaunchCgroup,
                   ReceiveExpected(reporter_.sock(), kMovedToLaunchCgroup, 0,
                                   context_.setup_timeout)
                       .status());
  }
  if (!sandbox_.seccomp_filter().empty()) {
    reporter_.Step(SetupStep::kInstallSeccompFilter, InstallSeccompFilter(sandbox_.seccomp_filter()));
  }
  if (command.kind() == Command::Kind::kProgram) {
    reporter_.Fail(SetupStep::kExec, ExecProgram(command.argv(), environment, sandbox_.host_uid()));
  }
  std::vector<int> keep = {reporter_.sock(), token.get()};
  keep.insert(keep.end(), fds.targets.begin(), fds.targets.end());
  RunFunction(reporter_, function, keep, std::move(environment));
}

}  // namespace

void RunSandboxChild(const Sandbox& sandbox, const Command& command, const ChildContext& context,
                     UniqueFd sock) {
  // The launcher may be a multi-threaded program; after fork only this thread exists. glibc
  // keeps malloc usable, which the steps rely on, and they take no other lock a thread of the
  // launcher could have held (timings use MonotonicNow(), not absl::Now()). GCC 12's
  // AddressSanitizer allocator is not fork-safe: see "Known limits" in docs/SECURITY.md.
  if (!context.forked_as_pid1 && getppid() != context.launcher_pid) _exit(kSetupFailedExitCode);
  ChildSetup setup(sandbox, context, std::move(sock));
  UniqueFd token = setup.PrepareSandbox();
  setup.RunCommand(command, command.function(), std::move(token), /*forked_by_zygote=*/false);
}

void RunPreparedSandbox(const Sandbox& sandbox, const ChildContext& context, UniqueFd sock,
                        const std::function<void(SetupReporter&, UniqueFd token)>& serve) {
  if (getppid() != context.launcher_pid) _exit(kSetupFailedExitCode);
  ChildSetup setup(sandbox, context, std::move(sock));
  UniqueFd token = setup.PrepareSandbox();
  serve(setup.reporter(), std::move(token));
  _exit(kSetupFailedExitCode);  // Not reached: `serve` does not return.
}

void RunForkedCommand(const Sandbox& sandbox, const Command& command,
                      const std::function<int()>& server_function, const ChildContext& context,
                      UniqueFd report_sock, UniqueFd token) {
  ChildSetup setup(sandbox, context, std::move(report_sock));
  setup.RunCommand(command,
                   command.kind() == Command::Kind::kFunction ? command.function() : server_function,
                   std::move(token), /*forked_by_zygote=*/true);
}

}  // namespace tokenbox
