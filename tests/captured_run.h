#ifndef TOKENBOX_TESTS_CAPTURED_RUN_H_
#define TOKENBOX_TESTS_CAPTURED_RUN_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sandbox/launcher.h"
#include "sandbox/command.h"
#include "sandbox/sandbox.h"
#include "tests/command_runner.h"

namespace tokenbox::testing {

// How a sandbox ended, and what it wrote to its stdout.
struct CapturedRun {
  ExitStatus status;
  std::string out;
};

// Starts `command` through `launch` (Launch, or a fork server's Launch) with its stdout on a
// pipe, and reads it to the end. Fails the test case when a build, the launch or the wait fails.
CapturedRun RunCaptured(CommandBuilder command,
                        const std::function<absl::StatusOr<Child>(const Command&)>& launch);
// The same through Launch(), in the sandbox `sandbox` builds.
CapturedRun RunCaptured(SandboxBuilder sandbox, CommandBuilder command);

// A sandbox with the policy the sandbox tests use: map_create, prog_load and btf_load of array
// maps and socket_filter programs, any attach type.
SandboxBuilder DemoSandbox();

// Where the program stands in its pid namespace. What must hold in each runs once per mode.
enum class PidMode {
  kPid2,            // The default: pid 2, under tokenbox's pid 1.
  kPid1,            // ProgramAsPid1(): pid 1 of a namespace nested under tokenbox's.
  kNoPidNamespace,  // The launcher's pid namespace.
};
inline constexpr PidMode kEveryPidMode[] = {PidMode::kPid2, PidMode::kPid1,
                                            PidMode::kNoPidNamespace};
const char* PidModeName(PidMode mode);
// DemoSandbox(), in `mode`.
SandboxBuilder DemoSandbox(PidMode mode);
// A command that runs `argv`, with a timeout long enough never to matter unless it hangs.
CommandBuilder ProgramCommand(std::vector<std::string> argv);
// Builds, or fails the test case.
Sandbox Built(SandboxBuilder builder);
Command Built(CommandBuilder builder);

// A directory that the sandbox's user can read, holding tests/inspect_sandbox (removed at exit);
// tests may Write() further files into it.
StagedFiles& InspectorStage();
std::string InspectorPath();

// Whether inspect_sandbox's uid_map field (or gid_map's) maps inside 0, alone, to a host id
// that tokenbox leases: "0:<leased id>:1".
bool MapsRootToLeasedId(const std::string& map);

// The "key=value" fields of inspect_sandbox's output (one or more a line, space-separated).
std::map<std::string, std::string> KeyValues(const std::string& text);

}  // namespace tokenbox::testing

#endif  // TOKENBOX_TESTS_CAPTURED_RUN_H_
