#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "sandbox/command.h"
#include "sandbox/sandbox.h"
#include "token/policy_lint.h"
#include "tools/commands.h"
#include "tools/option_parser.h"
#include "tools/pty_relay.h"
#include "tools/run_support.h"
#include "tools/sandbox_flags.h"

namespace tokenbox {
namespace {

constexpr char kRunUsage[] = R"(Usage: tokenbox run [OPTIONS] -- PROGRAM [ARGS...]

Runs PROGRAM in a new user and mount namespace as an unprivileged host user (one leased
for the run by default, that no other process has), with a bpffs delegated by POLICY
mounted inside, a BPF token made from it, and no capability but CAP_BPF (plus
--keep-caps). libbpf programs find the token by themselves (LIBBPF_BPF_TOKEN_PATH);
others get its fd in TOKENBOX_TOKEN_FD. tokenbox itself must run as root: configuring a
delegated bpffs needs CAP_SYS_ADMIN in the initial user namespace. The program never has
it.

By default the sandbox also has pid, network (loopback only), IPC, UTS and cgroup
namespaces of its own, a cgroup of its own (all /sys/fs/cgroup shows inside, removed with
everything in it afterwards), a session without tokenbox's terminal, a fresh session
keyring and a devpts of its own (64 pseudo-terminals); its working directory is entered
by path, and tokenbox's terminal modes and stdio flags are put back after it. Delegated
programs that would reach the host are refused unless named (--allow-*). `tokenbox probe`
lists every default and the option below that gives it up.

The sandbox sees the host's files read-only, with /tmp, /var/tmp, /dev/shm and /run fresh
tmpfs mounts of its own that vanish with it: nothing it writes survives it unless bound in
with --bind. bubblewrap's operations (--bind, --ro-bind, --tmpfs, --dir, --symlink, --dev,
--proc, --remount-ro) apply in the order given, on top of that view or, with --empty-root,
of an empty one. Mount points that do not exist are made only in the sandbox's own tmpfs
mounts, never on the host.

)";

constexpr char kRunTail[] = R"(Exit status:
  the program's own exit code; 128+N when it was killed by signal N; 124 when the
  timeout killed it; 125 for a tokenbox error (usage, policy, privileges, set-up);
  126 when PROGRAM is not executable; 127 when PROGRAM is not found. Before 125, 126
  and 127 tokenbox prints one line to stderr saying what failed and what to do.

Examples:
  # Load a BPF program with an unmodified bpftool, holding only CAP_BPF:
  sudo tokenbox run --delegate-cmds=prog_load:btf_load:map_create:obj_pin \
      --delegate-progs=socket_filter --delegate-maps=array --delegate-attachs=any \
      -- /usr/sbin/bpftool prog load prog.bpf.o /sys/fs/bpf/prog
  # XDP needs CAP_NET_ADMIN inside the sandbox, where it reaches only the sandbox's own
  # network namespace (loopback alone):
  sudo tokenbox run --delegate-cmds=prog_load:btf_load --delegate-progs=xdp:socket_filter \
      --delegate-attachs=any --keep-caps=net_admin -- ./xdp_loader
  # A strict sandbox: of the host only /usr and the object, read-only; its own /dev, /proc
  # and /tmp; a read-only root:
  sudo tokenbox run --delegate-cmds=prog_load:btf_load:map_create:obj_pin \
      --delegate-progs=socket_filter --delegate-maps=array --delegate-attachs=any \
      --empty-root --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib \
      --symlink usr/lib64 /lib64 --dev /dev --proc /proc --tmpfs /tmp \
      --ro-bind prog.bpf.o /prog.bpf.o --remount-ro / \
      -- /usr/sbin/bpftool prog load /prog.bpf.o /sys/fs/bpf/prog
)";

int Fail(absl::string_view message) {
  std::fprintf(stderr, "tokenbox run: %.*s\n", static_cast<int>(message.size()), message.data());
  return kExitTokenboxError;
}

}  // namespace

int RunCommand(int argc, char** argv) {
  const std::vector<SandboxFlag> flags = SandboxFlagsFor(kRunFlag);
  absl::StatusOr<CommandLine> line = ParseSandboxCommandLine(argc, argv, flags);
  if (!line.ok()) return Fail(absl::StrCat(line.status().message(), " (see tokenbox run --help)"));
  if (HelpAsked(*line)) {
    std::printf("%s%s\n%s", kRunUsage, SandboxFlagsHelp(flags, "Sandbox:").c_str(), kRunTail);
    return 0;
  }
  if (!line->saw_double_dash) {
    return Fail(line->operands.empty()
                    ? "missing '-- PROGRAM [ARGS...]' (see tokenbox run --help)"
                    : absl::StrCat("put '--' before the program: tokenbox run [OPTIONS] -- ",
                                   line->operands[0], " ..."));
  }
  if (line->operands.empty()) return Fail("missing the program after '--'");
  absl::StatusOr<SandboxRequest> request = ApplySandboxFlags(*line, flags);
  if (!request.ok()) return Fail(request.status().message());
  request->command.Program(line->operands);
  if (request->pty) request->command.OwnTerminal(PtyRelay::CallerWindowSize());
  absl::StatusOr<Sandbox> sandbox = request->sandbox.Build();
  if (!sandbox.ok()) return Fail(sandbox.status().message());
  absl::StatusOr<Command> command = request->command.Build();
  if (!command.ok()) return Fail(command.status().message());

  for (const std::string& warning : Lint(sandbox->policy(), sandbox->kept_capabilities())) {
    std::fprintf(stderr, "tokenbox run: warning: %s\n", warning.c_str());
  }
  absl::StatusOr<StartedRun> run =
      StartRun(*sandbox, *command, request->launch, request->via_fork_server);
  if (!run.ok()) {
    std::fprintf(stderr, "tokenbox run: %s\n", std::string(run.status().message()).c_str());
    return ExitCodeForSetupFailure(run.status());
  }
  std::unique_ptr<PtyRelay> pty;
  if (request->pty) {
    absl::StatusOr<std::unique_ptr<PtyRelay>> relay = PtyRelay::Start(run->child.TakeTerminal());
    if (!relay.ok()) {
      (void)run->child.Kill();
      return Fail(absl::StrCat("--pty: ", relay.status().message()));
    }
    pty = *std::move(relay);
  }
  ForwardTerminationSignalsTo(&run->child);
  absl::StatusOr<ExitStatus> status = run->child.Wait();
  ForwardTerminationSignalsTo(nullptr);
  if (pty != nullptr) pty->Finish();
  if (!status.ok()) return Fail(status.status().message());
  if (status->kind == ExitStatus::Kind::kTimedOut) {
    std::fprintf(stderr, "tokenbox run: the timeout of %s passed; the sandbox was killed\n",
                 absl::FormatDuration(*command->timeout()).c_str());
  } else if (request->launch.verbose) {
    std::fprintf(stderr, "tokenbox run: the sandbox %s\n", status->ToString().c_str());
  }
  return status->ShellExitCode();
}

}  // namespace tokenbox
