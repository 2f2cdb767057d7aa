#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ns/errno_status.h"
#include "ns/id_map.h"
#include "sandbox/handshake.h"
#include "sandbox/launcher.h"
#include "sandbox/sandbox_spec.h"
#include "token/policy_lint.h"
#include "tools/commands.h"
#include "tools/option_parser.h"
#include "tools/policy_options.h"
#include "tools/run_support.h"

namespace tokenbox {
namespace {

enum RunOption {
  kOptBpffs = 1,
  kOptNoBpffs,
  kOptUid,
  kOptGid,
  kOptMapUsers,
  kOptMapGroups,
  kOptUnshareNet,
  kOptUnsharePid,
  kOptNoUnsharePid,
  kOptUnshareIpc,
  kOptUnshareUts,
  kOptUnshareCgroup,
  kOptAsPid1,
  kOptTimeout,
  kOptChdir,
  kOptSetenv,
  kOptUnsetenv,
  kOptClearenv,
  kOptVerbose,
  kOptHelp,
  kOptReadOnlyHost,
  kOptWritable,
  kOptPrivateTmp,
  kOptViaForkServer,
};

constexpr OptionSpec kRunSpecs[] = {
    {"bpffs", true, kOptBpffs},
    {"no-bpffs", false, kOptNoBpffs},
    {"uid", true, kOptUid},
    {"gid", true, kOptGid},
    {"map-users", true, kOptMapUsers},
    {"map-groups", true, kOptMapGroups},
    {"unshare-net", false, kOptUnshareNet},
    {"unshare-pid", false, kOptUnsharePid},
    {"no-unshare-pid", false, kOptNoUnsharePid},
    {"unshare-ipc", false, kOptUnshareIpc},
    {"unshare-uts", false, kOptUnshareUts},
    {"unshare-cgroup", false, kOptUnshareCgroup},
    {"as-pid1", false, kOptAsPid1},
    {"timeout", true, kOptTimeout},
    {"chdir", true, kOptChdir},
    {"setenv", true, kOptSetenv},
    {"unsetenv", true, kOptUnsetenv},
    {"clearenv", false, kOptClearenv},
    {"verbose", false, kOptVerbose},
    {"help", false, kOptHelp},
    {"read-only-host", false, kOptReadOnlyHost},
    {"writable", true, kOptWritable},
    {"private-tmp", false, kOptPrivateTmp},
    {"via-fork-server", false, kOptViaForkServer},
};

constexpr char kRunUsage[] = R"(Usage: tokenbox run [OPTIONS] -- PROGRAM [ARGS...]

Runs PROGRAM in a new user and mount namespace as an unprivileged host user (nobody by
default), with a bpffs delegated by POLICY mounted inside, a BPF token made from it, and
no capability but CAP_BPF (plus --keep-caps). libbpf programs find the token by
themselves (LIBBPF_BPF_TOKEN_PATH); others get its fd in TOKENBOX_TOKEN_FD.
tokenbox itself must run as root: configuring a delegated bpffs needs CAP_SYS_ADMIN in the
initial user namespace. The program never has it.

)";

constexpr char kRunOptionsHelp[] = R"(Sandbox:
  --bpffs=PATH              mount the delegated bpffs at PATH inside (default /sys/fs/bpf)
  --no-bpffs                mount it nowhere; only the token fd is passed
  --uid=ID, --gid=ID        the host user and group the sandbox's root maps to (default 65534)
  --map-users=IN:OUT:COUNT  map a uid range instead (repeatable; must map inside uid 0)
  --map-groups=IN:OUT:COUNT map a gid range instead (repeatable; must map inside gid 0)
  --unshare-net             new network namespace, loopback up
  --unshare-pid             new pid namespace with its own /proc, the program as pid 2 under
                            a tiny init (the default)
  --no-unshare-pid          share tokenbox's pid namespace instead: faster to start, but a
                            process the program forks can outlive a SIGKILLed tokenbox
  --as-pid1                 the program itself is pid 1 of its pid namespace
  --unshare-ipc, --unshare-uts, --unshare-cgroup
                            new IPC, UTS (hostname "tokenbox") or cgroup namespace
  --timeout=DURATION        kill the whole sandbox after DURATION (30s, 1.5m, 500ms; plain
                            numbers are seconds)
  --read-only-host          every host mount is read-only inside, except --writable ones
  --writable=DIR            with --read-only-host: DIR stays writable (repeatable)
  --private-tmp             a fresh tmpfs on /tmp that only the sandbox sees
  --chdir=DIR               working directory inside
  --setenv=KEY=VALUE, --unsetenv=KEY, --clearenv
                            the program's environment (default: tokenbox's own; --clearenv
                            starts it empty, and --setenv adds to it in any order)
  --verbose                 print each set-up step and its time to stderr
  --via-fork-server         launch through a fork server (sandbox::ForkServer) prepared for
                            this one run: slower, but the same sandbox as a fork-server launch,
                            for checking one against the other
  --help                    print this help

Exit status:
  the program's own exit code; 128+N when it was killed by signal N; 124 when the
  timeout killed it; 125 for a tokenbox error (usage, policy, privileges, set-up);
  126 when PROGRAM is not executable; 127 when PROGRAM is not found. Before 125, 126
  and 127 tokenbox prints one line to stderr saying what failed and what to do.

Examples:
  # Load a BPF program with an unmodified bpftool, as nobody, holding only CAP_BPF:
  sudo tokenbox run --delegate-cmds=prog_load:btf_load:map_create:obj_pin \
      --delegate-progs=socket_filter --delegate-maps=array --delegate-attachs=any \
      -- /usr/sbin/bpftool prog load prog.bpf.o /sys/fs/bpf/prog
  # XDP needs CAP_NET_ADMIN inside the sandbox's own namespaces:
  sudo tokenbox run --delegate-cmds=prog_load:btf_load --delegate-progs=xdp:socket_filter \
      --delegate-attachs=any --keep-caps=net_admin --unshare-net -- ./xdp_loader
)";

int Fail(absl::string_view message) {
  std::fprintf(stderr, "tokenbox run: %.*s\n", static_cast<int>(message.size()), message.data());
  return kExitTokenboxError;
}

}  // namespace

int RunCommand(int argc, char** argv) {
  absl::StatusOr<CommandLine> line = ParsePolicyCommandLine(argc, argv, kRunSpecs);
  if (!line.ok()) return Fail(absl::StrCat(line.status().message(), " (see tokenbox run --help)"));
  for (const ParsedOption& option : line->options) {
    if (option.id == kOptHelp) {
      std::printf("%s%s%s", kRunUsage, kPolicyOptionsHelp, kRunOptionsHelp);
      return 0;
    }
  }
  if (!line->saw_double_dash) {
    return Fail(line->operands.empty()
                    ? "missing '-- PROGRAM [ARGS...]' (see tokenbox run --help)"
                    : absl::StrCat("put '--' before the program: tokenbox run [OPTIONS] -- ",
                                   line->operands[0], " ..."));
  }
  if (line->operands.empty()) return Fail("missing the program after '--'");
  absl::StatusOr<PolicyRequest> request = PolicyFromCommandLine(*line);
  if (!request.ok()) return Fail(request.status().message());

  SandboxBuilder builder;
  builder.Program(line->operands)
      .Policy(request->policy)
      .KeepCapabilities(request->kept_caps);
  ExtraNamespaces namespaces;
  FilesystemView filesystem;
  std::vector<IdRange> user_ranges, group_ranges;
  std::optional<uint32_t> uid, gid;
  bool verbose = false;
  bool via_fork_server = false;
  for (const ParsedOption& option : line->options) {
    switch (option.id) {
      case kOptBpffs: builder.BpffsPath(option.value); break;
      case kOptNoBpffs: builder.NoBpffs(); break;
      case kOptUid:
      case kOptGid: {
        absl::StatusOr<uint32_t> id = ParseId(option.value, absl::StrCat("--", option.name));
        if (!id.ok()) return Fail(id.status().message());
        (option.id == kOptUid ? uid : gid) = *id;
        break;
      }
      case kOptMapUsers:
      case kOptMapGroups: {
        absl::StatusOr<IdMap> map = IdMap::Parse(option.value);
        if (!map.ok()) return Fail(absl::StrCat("--", option.name, ": ", map.status().message()));
        auto& ranges = option.id == kOptMapUsers ? user_ranges : group_ranges;
        ranges.insert(ranges.end(), map->ranges().begin(), map->ranges().end());
        break;
      }
      case kOptUnshareNet: namespaces.net = true; break;
      case kOptUnsharePid: namespaces.pid = true; break;
      case kOptNoUnsharePid: namespaces.pid = false; break;
      case kOptUnshareIpc: namespaces.ipc = true; break;
      case kOptUnshareUts: namespaces.uts = true; break;
      case kOptUnshareCgroup: namespaces.cgroup = true; break;
      case kOptAsPid1: namespaces.program_is_pid1 = true; break;
      case kOptTimeout: {
        absl::StatusOr<absl::Duration> timeout = ParseTimeout(option.value);
        if (!timeout.ok()) return Fail(timeout.status().message());
        builder.Timeout(*timeout);
        break;
      }
      case kOptChdir: builder.WorkingDirectory(option.value); break;
      case kOptSetenv: {
        size_t eq = option.value.find('=');
        if (eq == std::string::npos) {
          return Fail(absl::StrCat("--setenv: '", Printable(option.value), "' is not KEY=VALUE"));
        }
        builder.SetEnv(option.value.substr(0, eq), option.value.substr(eq + 1));
        break;
      }
      case kOptUnsetenv: builder.UnsetEnv(option.value); break;
      case kOptClearenv: builder.ClearEnvironment(); break;
      case kOptVerbose: verbose = true; break;
      case kOptViaForkServer: via_fork_server = true; break;
      case kOptReadOnlyHost: filesystem.read_only_host = true; break;
      case kOptWritable: filesystem.writable_paths.push_back(option.value); break;
      case kOptPrivateTmp: filesystem.private_tmp = true; break;
      default: break;
    }
  }
  if (uid.has_value() && !user_ranges.empty()) return Fail("give --uid or --map-users, not both");
  if (gid.has_value() && !group_ranges.empty()) return Fail("give --gid or --map-groups, not both");
  if (uid.has_value()) builder.HostUser(*uid);
  if (gid.has_value()) builder.HostGroup(*gid);
  for (auto [ranges, is_user] : {std::pair{&user_ranges, true}, std::pair{&group_ranges, false}}) {
    if (ranges->empty()) continue;
    absl::StatusOr<IdMap> map = IdMap::Create(*ranges);
    if (!map.ok()) {
      return Fail(absl::StrCat(is_user ? "--map-users: " : "--map-groups: ", map.status().message()));
    }
    is_user ? builder.UidMap(*map) : builder.GidMap(*map);
  }
  builder.Namespaces(namespaces).Filesystem(filesystem);
  absl::StatusOr<SandboxSpec> spec = builder.Build();
  if (!spec.ok()) return Fail(spec.status().message());

  for (const std::string& warning : Lint(spec->policy(), spec->kept_capabilities())) {
    std::fprintf(stderr, "tokenbox run: warning: %s\n", warning.c_str());
  }
  std::unique_ptr<ForkServer> fork_server;
  absl::StatusOr<Child> child =
      LaunchOnce(*spec, LaunchOptions{verbose}, via_fork_server ? &fork_server : nullptr);
  if (!child.ok()) {
    std::fprintf(stderr, "tokenbox run: %s\n", std::string(child.status().message()).c_str());
    return ExitCodeForSetupFailure(child.status());
  }
  ForwardTerminationSignalsTo(child->pidfd());
  absl::StatusOr<ExitStatus> status = child->Wait();
  ForwardTerminationSignalsTo(-1);
  if (!status.ok()) return Fail(status.status().message());
  if (status->kind == ExitStatus::Kind::kTimedOut) {
    std::fprintf(stderr, "tokenbox run: the timeout of %s passed; the sandbox was killed\n",
                 absl::FormatDuration(*spec->timeout()).c_str());
  } else if (verbose) {
    std::fprintf(stderr, "tokenbox run: the sandbox %s\n", status->ToString().c_str());
  }
  return status->ShellExitCode();
}

}  // namespace tokenbox
