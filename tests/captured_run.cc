#include "tests/captured_run.h"

#include <unistd.h>

#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "ns/pipe.h"
#include "sandbox/host_resources/host_id_lease.h"
#include "tests/test_support.h"

namespace tokenbox::testing {

CapturedRun RunCaptured(CommandBuilder command,
                        const std::function<absl::StatusOr<Child>(const Command&)>& launch) {
  absl::StatusOr<Pipe> output = MakePipe();
  REQUIRE_MESSAGE(output.ok(), output.status().ToString());
  UniqueFd read_end = std::move(output->read_end);
  std::optional<Child> child;
  {
    // The builder and the command each keep a duplicate of the passed write end; they must be
    // gone before reading, or the pipe never reaches end-of-file.
    UniqueFd write_end = std::move(output->write_end);
    CommandBuilder local = std::move(command);
    local.PassFd(write_end.get(), 1);
    auto built = local.Build();
    REQUIRE_MESSAGE(built.ok(), built.status().ToString());
    auto launched = launch(*built);
    REQUIRE_MESSAGE(launched.ok(), launched.status().ToString());
    child.emplace(*std::move(launched));
  }
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = read(read_end.get(), buffer, sizeof(buffer))) > 0) out.append(buffer, n);
  auto status = child->Wait();
  REQUIRE_MESSAGE(status.ok(), status.status().ToString());
  return {*status, out};
}

CapturedRun RunCaptured(SandboxBuilder sandbox, CommandBuilder command) {
  Sandbox built = Built(std::move(sandbox));
  return RunCaptured(std::move(command), [&](const Command& run) { return Launch(built, run); });
}

SandboxBuilder DemoSandbox() {
  SandboxBuilder builder;
  builder.Policy(*ParseDelegationPolicy("map_create:prog_load:btf_load", "array", "socket_filter",
                                        "any"));
  return builder;
}

const char* PidModeName(PidMode mode) {
  switch (mode) {
    case PidMode::kPid2: return "program as pid 2";
    case PidMode::kPid1: return "program as pid 1";
    case PidMode::kNoPidNamespace: return "no pid namespace";
  }
  return "";
}

SandboxBuilder DemoSandbox(PidMode mode) {
  SandboxBuilder builder = DemoSandbox();
  NewNamespaces namespaces;
  namespaces.pid = mode != PidMode::kNoPidNamespace;
  builder.Namespaces(namespaces);
  if (mode == PidMode::kPid1) builder.ProgramAsPid1();
  return builder;
}

CommandBuilder ProgramCommand(std::vector<std::string> argv) {
  CommandBuilder builder;
  builder.Program(std::move(argv)).Timeout(absl::Seconds(60));
  return builder;
}

Sandbox Built(SandboxBuilder builder) {
  auto sandbox = builder.Build();
  REQUIRE_MESSAGE(sandbox.ok(), sandbox.status().ToString());
  return *sandbox;
}

Command Built(CommandBuilder builder) {
  auto command = builder.Build();
  REQUIRE_MESSAGE(command.ok(), command.status().ToString());
  return *command;
}

StagedFiles& InspectorStage() {
  static StagedFiles staged({"tests/inspect_sandbox"});
  return staged;
}

std::string InspectorPath() { return InspectorStage().path("inspect_sandbox"); }

std::map<std::string, std::string> KeyValues(const std::string& text) {
  std::map<std::string, std::string> values;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    for (absl::string_view field : absl::StrSplit(line, ' ')) {
      std::pair<std::string, std::string> kv = absl::StrSplit(field, absl::MaxSplits('=', 1));
      if (!kv.first.empty()) values[kv.first] = kv.second;
    }
  }
  return values;
}

bool MapsRootToLeasedId(const std::string& map) {
  std::vector<std::string> fields = absl::StrSplit(map, ':');
  uint32_t id = 0;
  return fields.size() == 3 && fields[0] == "0" && fields[2] == "1" &&
         absl::SimpleAtoi(fields[1], &id) && IsLeasedHostId(id);
}

}  // namespace tokenbox::testing
