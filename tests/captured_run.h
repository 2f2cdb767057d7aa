#ifndef TOKENBOX_TESTS_CAPTURED_RUN_H_
#define TOKENBOX_TESTS_CAPTURED_RUN_H_

#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "sandbox/launcher.h"
#include "sandbox/sandbox_spec.h"
#include "tests/command_runner.h"

namespace tokenbox::testing {

// How a sandbox ended, and what it wrote to its stdout.
struct CapturedRun {
  ExitStatus status;
  std::string out;
};

// Starts `builder`'s sandbox through `launch` (Launch, or a fork server's Launch) with its stdout
// on a pipe, and reads it to the end. Fails the test case when the launch or the wait fails.
CapturedRun RunCaptured(SandboxBuilder builder,
                        const std::function<absl::StatusOr<Child>(const SandboxSpec&)>& launch);

// A directory that the sandbox's user can read, holding tests/inspect_sandbox (removed at exit);
// tests may Write() further files into it.
StagedFiles& InspectorStage();
std::string InspectorPath();

// The "key=value" fields of inspect_sandbox's output (one or more a line, space-separated).
std::map<std::string, std::string> KeyValues(const std::string& text);

}  // namespace tokenbox::testing

#endif  // TOKENBOX_TESTS_CAPTURED_RUN_H_
