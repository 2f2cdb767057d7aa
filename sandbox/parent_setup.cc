#include "sandbox/parent_setup.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ns/fd_passing.h"
#include "ns/id_map.h"
#include "ns/monotonic_clock.h"
#include "ns/user_namespace.h"
#include "sandbox/delegate_to_child.h"
#include "sandbox/fork_thread.h"
#include "sandbox/protocol.h"
#include "sandbox/setup_progress.h"
#include "token/process_capabilities.h"

namespace tokenbox {
namespace {

absl::Status CheckPrivileges() {
  const std::string why = WhyCannotDelegate();
  if (why.empty()) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      why, ": the launcher needs CAP_SYS_ADMIN in the initial user namespace to configure a "
           "delegated bpffs; run it as root (e.g. with sudo)"));
}

// For a launch on behalf of a user: the user namespace whose idmapping shows that user's files,
// in the sandbox's writable binds, as owned by the sandbox's host ids, so that what the sandbox
// writes there is that user's. None when nothing is bound writable or the ids are the user's own.
absl::StatusOr<UniqueFd> WritableBindIdmapping(const Sandbox& leased, const OnBehalfOf& caller) {
  const bool binds_writable = std::any_of(
      leased.filesystem().operations.begin(), leased.filesystem().operations.end(),
      [](const MountOperation& op) { return op.kind == MountOperation::Kind::kBind; });
  const uid_t sandbox_uid = leased.host_uid();
  const std::optional<uint32_t> sandbox_gid =
      leased.gid_map().has_value() ? leased.gid_map()->ToOutside(0) : std::nullopt;
  if (!sandbox_gid.has_value()) {
    return absl::FailedPreconditionError("the sandbox has no host gid for its gid 0");
  }
  if (!binds_writable || (caller.uid == sandbox_uid && caller.gid == *sandbox_gid)) {
    return UniqueFd();
  }
  absl::StatusOr<IdMap> uids = IdMap::Single(caller.uid, sandbox_uid);
  if (!uids.ok()) return uids.status();
  absl::StatusOr<IdMap> gids = IdMap::Single(caller.gid, *sandbox_gid);
  if (!gids.ok()) return gids.status();
  return MakeIdmappingNamespace(*uids, *gids);
}

}  // namespace

absl::StatusOr<ParentSetup::Started> ParentSetup::Start(const Sandbox& sandbox,
                                                        std::optional<absl::Duration> timeout,
                                                        CallerStdio caller_stdio,
                                                        const LaunchOptions& options,
                                                        ExpectedStart expect,
                                                        const ChildMain& child_main,
                                                        const OnBehalfOf* on_behalf_of) {
  const int progress_fd = !options.verbose         ? -1
                          : on_behalf_of != nullptr ? on_behalf_of->progress_fd
                                                    : STDERR_FILENO;
  const LauncherSteps steps(progress_fd, MonotonicNow());
  if (absl::Status s = CheckPrivileges(); !s.ok()) {
    return SetupFailure(SetupStep::kCheckPrivileges, s);
  }
  // Without a pid namespace the kernel does not end the sandbox with the launcher: its cgroup's
  // removal does, else the sweep of its leased uid, each also by a watcher if the launcher dies.
  const bool no_pid_namespace = !sandbox.namespaces().pid;
  absl::StatusOr<std::shared_ptr<const SandboxCgroup>> created = SandboxCgroup::Create(
      sandbox.namespaces().cgroup, sandbox.cgroup_limits(), /*watch_launcher=*/no_pid_namespace);
  if (!created.ok()) return SetupFailure(SetupStep::kCreateCgroup, created.status());
  std::shared_ptr<const SandboxCgroup> cgroup = *std::move(created);
  if (cgroup) steps.Note(absl::StrCat("created cgroups ", cgroup->path()));
  std::shared_ptr<const HostIdLease> host_ids;
  if (!sandbox.uid_map().has_value() || !sandbox.gid_map().has_value()) {
    const bool sweep = !sandbox.uid_map().has_value() && no_pid_namespace;
    absl::StatusOr<std::shared_ptr<const HostIdLease>> lease =
        HostIdLease::Acquire(/*sweep_on_release=*/sweep,
                             /*watch_launcher=*/sweep && (!cgroup || cgroup->dir_fd() < 0));
    if (!lease.ok()) return SetupFailure(SetupStep::kLeaseHostIds, lease.status());
    host_ids = *std::move(lease);
    steps.Note(absl::StrCat("leased host id ", host_ids->id()));
  }
  const Sandbox leased = host_ids ? sandbox.WithLeasedIds(host_ids->id()) : sandbox;
  absl::StatusOr<SocketPair> pair = MakeSocketPair();
  if (!pair.ok()) return SetupFailure(SetupStep::kCreateHandshakeSocket, pair.status());
  ChildContext context{getpid(), progress_fd, steps.started(), options.setup_timeout,
                       cgroup ? cgroup->dir_fds() : std::vector<int>()};
  context.deadline = LaunchDeadline(steps.started(), timeout);
  if (on_behalf_of != nullptr) {
    context.bind_sources_provided = true;
    context.bind_source_fds = on_behalf_of->bind_sources;
    context.caller_limits = on_behalf_of->limits;
  }
  // The idmapping is made here, in the launcher's pid namespace, where /proc names the helper
  // that holds it; the child, pid 1 of its own by then, could not write the helper's maps.
  UniqueFd writable_bind_idmapping;
  if (on_behalf_of != nullptr) {
    absl::StatusOr<UniqueFd> made = WritableBindIdmapping(leased, *on_behalf_of);
    if (!made.ok()) return SetupFailure(SetupStep::kOpenBindSources, made.status());
    writable_bind_idmapping = *std::move(made);
    context.writable_bind_idmapping = writable_bind_idmapping.get();
  }
  // A program (not a zygote, whose launches get pid namespaces of their own) in a pid namespace:
  // the child is forked as its pid 1, and reports how the program ended through a pipe.
  const bool as_pid1 = sandbox.namespaces().pid && expect != ExpectedStart::kZygote;
  UniqueFd program_status, program_status_writer;
  if (as_pid1) {
    absl::StatusOr<Pipe> pipe = MakeProgramStatusPipe();
    if (!pipe.ok()) return SetupFailure(SetupStep::kCreateHandshakeSocket, pipe.status());
    program_status = std::move(pipe->read_end);
    context.forked_as_pid1 = true;
    program_status_writer = std::move(pipe->write_end);
    context.program_status_fd = program_status_writer.get();
  }
  // A leased id's earlier holder may have left processes behind
  // (sandbox/host_resources/host_id_lease.h); the child ends them as that user, unless it is
  // pid 1 of a new namespace, which reaches none.
  if (as_pid1 && host_ids) {
    if (absl::Status s = KillEveryProcessOf(host_ids->id()); !s.ok()) {
      return SetupFailure(SetupStep::kLeaseHostIds, s);
    }
  }
  std::fflush(nullptr);
  absl::StatusOr<pid_t> forked = ForkChild(
      [&] {
        pair->parent.Reset();
        program_status.Reset();
        child_main(leased, std::move(pair->child), context);
      },
      as_pid1);
  program_status_writer.Reset();
  if (!forked.ok()) {
    return SetupStepOf(forked.status()).has_value() ? forked.status()
                                                    : SetupFailure(SetupStep::kFork, forked.status());
  }
  pair->child.Reset();
  UniqueFd sock = std::move(pair->parent);
  steps.Note("forked the child");
  auto process = std::make_unique<ChildProcess>();
  process->pid = *forked;
  process->kill_process_group = no_pid_namespace;
  process->deadline = context.deadline;
  process->caller_stdio = std::move(caller_stdio);
  process->host_ids = host_ids;
  process->cgroup = cgroup;
  process->program_status = std::move(program_status);
  // Sharing the session without a pid namespace, the child is a process group of its own in
  // the caller's session. Otherwise the child's setsid() makes its group, and must come first:
  // a group leader cannot setsid.
  const bool shares_callers_terminal = no_pid_namespace && sandbox.shares_session();
  absl::StatusOr<Child> child = ChildStart::Await(
      steps, std::move(process), shares_callers_terminal, sock.get(), expect,
      options.setup_timeout, [&] {
        return DelegateToChild(steps, sock.get(), *forked, *leased.uid_map(), *leased.gid_map(),
                               sandbox.policy(), options.setup_timeout);
      });
  if (!child.ok()) return child.status();
  return Started{*std::move(child), std::move(sock), std::move(host_ids), std::move(cgroup)};
}

}  // namespace tokenbox
