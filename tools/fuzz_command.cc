// tokenbox fuzz: a libFuzzer binary in a delegated sandbox, with its corpus and artifact
// directories the only writable places of the host.
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "ns/errno_status.h"
#include "sandbox/command.h"
#include "sandbox/launcher.h"
#include "sandbox/sandbox.h"
#include "token/policy_lint.h"
#include "token/process_capabilities.h"
#include "tools/commands.h"
#include "tools/fuzzer_output.h"
#include "tools/option_parser.h"
#include "tools/run_support.h"
#include "tools/sandbox_flags.h"

namespace tokenbox {
namespace {

constexpr char kFuzzUsage[] = R"(Usage: tokenbox fuzz [POLICY OPTIONS] [OPTIONS] -- FUZZER [LIBFUZZER ARGS...]

Runs a libFuzzer binary in a delegated BPF sandbox (as tokenbox run does: new user, mount
and pid namespaces, an unprivileged host user, a BPF token, only CAP_BPF). The host's
filesystem is read-only inside, except the corpus directories (libFuzzer's positional
arguments) and the artifact directory (-artifact_prefix= or -exact_artifact_path=), which
are bound in writable. -jobs, -workers and -fork work; their logs and temporary files go to
the working directory, which is the artifact directory (else the first corpus directory).
These directories must be writable by the sandbox's host user: by everyone (mode 1777, like
/tmp) for the host uid leased for each run, or by the owner given with --uid. Run by a user
who is not root (through tokenboxd), your own directories do: tokenboxd idmaps them, so that
the sandbox writes there as you, and what it writes is yours. /tmp, /var/tmp,
/dev/shm and /run are the sandbox's own; the fuzzer is bound in read-only where it is.
--memory-max, --pids-max and --cpu-max bound the whole sandbox (libFuzzer's -rss_limit_mb
bounds one process).

)";

constexpr char kFuzzTail[] = R"(tokenbox repeats the fuzzer's error line with control characters escaped, and names its
artifact only when that is a regular file in one of the directories above. The fuzzer's
stderr is read line by line, at most 4096 bytes of each kept, until its sandbox is gone.

Exit status: libFuzzer's own (0 when nothing was found; on a crash libFuzzer's code, and
tokenbox names the crash and its artifact); 124 when --timeout ended the run; 125 for a
tokenbox error; 126/127 when FUZZER cannot be executed or is not found.

Example:
  sudo tokenbox fuzz --delegate-cmds=map_create --delegate-maps=hash:array --timeout=10m \
      -- ./map_fuzzer -max_total_time=300 -artifact_prefix=artifacts/ corpus/
)";

int Fail(absl::string_view message) {
  std::fprintf(stderr, "tokenbox fuzz: %.*s\n", static_cast<int>(message.size()), message.data());
  return kExitTokenboxError;
}

absl::StatusOr<std::string> Absolute(const std::string& path) {
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) {
    return ErrnoStatus(errno, absl::StrCat("realpath(", Printable(path), ")"),
                       "corpus and artifact directories must exist");
  }
  return std::string(resolved);
}

// A directory the sandbox's user can write: owned by it, or writable by everyone. A leased uid
// (`uid` nullopt) is known only at launch, and owns nothing on the host.
absl::Status CheckWritableBy(const std::string& dir, std::optional<uint32_t> uid) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) return ErrnoStatus(errno, absl::StrCat("stat(", dir, ")"));
  if (!S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(dir, " is not a directory"));
  }
  bool writable = (uid.has_value() && st.st_uid == *uid && (st.st_mode & S_IWUSR)) ||
                  (st.st_mode & S_IWOTH);
  if (writable) return absl::OkStatus();
  // A caller who is not root has tokenboxd start the sandbox, which idmaps a writable bind so
  // that the caller's own uid and gid are the sandbox's there (its other groups are not).
  if (!uid.has_value() && !WhyCannotDelegate().empty()) {
    if ((st.st_uid == getuid() && (st.st_mode & S_IWUSR)) ||
        (st.st_gid == getgid() && (st.st_mode & S_IWGRP))) {
      return absl::OkStatus();
    }
    return absl::PermissionDeniedError(absl::StrCat(
        dir, " is not writable by you as its owner or its group's, which is what the sandbox "
        "writes it as: chown it to yourself, or chmod 1777 ", dir));
  }
  if (!uid.has_value()) {
    return absl::PermissionDeniedError(absl::StrCat(
        dir, " is not writable by the sandbox's host user, a uid leased for this run: chmod "
        "1777 ", dir, ", or pass --uid with the uid that owns it"));
  }
  return absl::PermissionDeniedError(absl::StrCat(
      dir, " is not writable by the sandbox's host user (uid ", *uid, "): chown ", *uid, " ", dir,
      ", or pass --uid with the uid that owns it"));
}

}  // namespace

int FuzzCommand(int argc, char** argv) {
  const std::vector<SandboxFlag> flags = SandboxFlagsFor(kFuzzFlag);
  absl::StatusOr<CommandLine> line = ParseSandboxCommandLine(argc, argv, flags);
  if (!line.ok()) return Fail(absl::StrCat(line.status().message(), " (see tokenbox fuzz --help)"));
  if (HelpAsked(*line)) {
    std::printf("%s%s\n%s", kFuzzUsage, SandboxFlagsHelp(flags, "Options:").c_str(), kFuzzTail);
    return 0;
  }
  if (!line->saw_double_dash || line->operands.empty()) {
    return Fail("missing '-- FUZZER [LIBFUZZER ARGS...]' (see tokenbox fuzz --help)");
  }
  absl::StatusOr<SandboxRequest> request = ApplySandboxFlags(*line, flags);
  if (!request.ok()) return Fail(request.status().message());
  const std::optional<uint32_t> uid = request->uid;

  // The fuzzer's own arguments name what it writes.
  std::vector<std::string> program = line->operands;
  // Bound in writable, each over itself; TMPDIR (which -fork uses) points at the working
  // directory, so that nothing the fuzzer writes is lost with the sandbox's private /tmp.
  std::vector<std::string> writable_paths;
  std::string workdir;
  // Each is rewritten as an absolute path, so that the fuzzer can run in a writable directory
  // (where -jobs and -fork put their logs) and the paths still mean what they meant here.
  for (size_t i = 1; i < program.size(); ++i) {
    std::string& arg = program[i];
    std::string option, path;  // arg = option + path; path names a directory, or dir/file prefix.
    if (absl::StartsWith(arg, "-artifact_prefix=")) {
      option = "-artifact_prefix=";
    } else if (absl::StartsWith(arg, "-exact_artifact_path=")) {
      option = "-exact_artifact_path=";
    } else if (absl::StartsWith(arg, "-")) {
      continue;
    }
    path = arg.substr(option.size());
    struct stat st;
    if (option.empty() && stat(path.c_str(), &st) != 0) {
      return Fail(ErrnoStatus(errno, absl::StrCat("stat(", Printable(path), ")"),
                              "a corpus directory (or input file) must exist")
                      .message());
    }
    bool whole_directory = option.empty() && stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    if (option == "-artifact_prefix=" && (path.empty() || path.back() == '/')) whole_directory = true;
    std::string dir = whole_directory ? (path.empty() ? "." : path)
                      : path.find('/') == std::string::npos ? "."
                                                            : path.substr(0, path.rfind('/'));
    std::string rest = whole_directory ? "" : path.substr(path.rfind('/') + 1);
    absl::StatusOr<std::string> absolute = Absolute(dir.empty() ? "/" : dir);
    if (!absolute.ok()) return Fail(absolute.status().message());
    if (absl::Status s = CheckWritableBy(*absolute, uid); !s.ok()) return Fail(s.message());
    writable_paths.push_back(*absolute);
    if (workdir.empty() || !option.empty()) workdir = *absolute;
    arg = absl::StrCat(option, *absolute, whole_directory && option.empty() ? "" : "/", rest);
  }
  if (workdir.empty()) {
    return Fail("give the fuzzer a corpus directory or -artifact_prefix=DIR/: it needs somewhere "
                "writable, and nothing else of the host is");
  }
  absl::StatusOr<std::string> fuzzer = Absolute(program[0]);
  if (fuzzer.ok()) program[0] = *fuzzer;
  for (const std::string& path : writable_paths) request->sandbox.Bind(path, path);
  // The fuzzer itself, wherever it is: under /tmp, the sandbox's private /tmp would hide it.
  // (One that is not there is left for exec to report, as 127.)
  if (fuzzer.ok() && access(fuzzer->c_str(), F_OK) == 0) {
    request->sandbox.ReadOnlyBind(*fuzzer, *fuzzer);
  }

  int err_pipe[2];
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    return Fail(ErrnoStatus(errno, "pipe2(fuzzer stderr)",
                            "tokenbox is out of file descriptors: raise RLIMIT_NOFILE")
                    .message());
  }
  UniqueFd err_read(err_pipe[0]);
  std::optional<Child> child;
  absl::Time started = absl::Now();
  std::optional<absl::Duration> timeout;
  {
    UniqueFd err_write(err_pipe[1]);
    request->command.Program(program)
        .WorkingDirectory(workdir)
        .SetEnv("TMPDIR", workdir)
        .PassFd(err_write.get(), 2);
    absl::StatusOr<Sandbox> sandbox = request->sandbox.Build();
    if (!sandbox.ok()) return Fail(sandbox.status().message());
    absl::StatusOr<Command> command = request->command.Build();
    // The builder and the command keep a duplicate of the stderr pipe's write end; both must be
    // gone before reading, or the pipe never reaches end-of-file.
    request->command = CommandBuilder();
    if (!command.ok()) return Fail(command.status().message());
    timeout = command->timeout();
    for (const std::string& warning : Lint(sandbox->policy(), sandbox->kept_capabilities())) {
      std::fprintf(stderr, "tokenbox fuzz: warning: %s\n", warning.c_str());
    }
    absl::StatusOr<Child> launched = Launch(*sandbox, *command, request->launch);
    if (!launched.ok()) {
      std::fprintf(stderr, "tokenbox fuzz: %s\n", std::string(launched.status().message()).c_str());
      return ExitCodeForSetupFailure(launched.status());
    }
    child.emplace(*std::move(launched));
  }
  ForwardTerminationSignalsTo(&*child);
  // Tee the fuzzer's stderr until its sandbox is gone (the pid namespace ends everything in
  // it), or until the timeout, which Wait() then enforces.
  FuzzerOutput output;
  absl::Status copied = CopyUntilSandboxEnds(
      err_read.get(), STDERR_FILENO, child->pidfd(),
      timeout.has_value() ? std::optional(started + *timeout) : std::nullopt, output);
  output.Finish();
  absl::StatusOr<ExitStatus> status = child->Wait();
  ForwardTerminationSignalsTo(nullptr);
  if (!copied.ok()) return Fail(copied.message());
  if (!status.ok()) return Fail(status.status().message());
  // What the fuzzer wrote is repeated only as printable text, and its artifact only when it is
  // a file in one of its directories: the fuzzer chooses both.
  const std::optional<std::string> artifact =
      ArtifactInside(output.artifact(), workdir, writable_paths);
  if (status->kind == ExitStatus::Kind::kTimedOut) {
    std::fprintf(stderr, "tokenbox fuzz: the timeout of %s passed; the sandbox was killed\n",
                 absl::FormatDuration(*timeout).c_str());
  } else if (artifact.has_value() || status->ShellExitCode() != 0) {
    std::fprintf(stderr, "tokenbox fuzz: the fuzzer %s%s%s\n", status->ToString().c_str(),
                 output.error().empty()
                     ? ""
                     : absl::StrCat(" after: ", Printable(output.error(), 200)).c_str(),
                 artifact.has_value()
                     ? absl::StrCat("; the input is saved at ", Printable(*artifact, 512)).c_str()
                     : "");
  }
  return status->ShellExitCode();
}

}  // namespace tokenbox
