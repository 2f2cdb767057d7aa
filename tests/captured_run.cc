#include "tests/captured_run.h"

#include <unistd.h>

#include <optional>
#include <utility>

#include "absl/strings/str_split.h"
#include "ns/pipe.h"
#include "tests/test_support.h"

namespace tokenbox::testing {

CapturedRun RunCaptured(SandboxBuilder builder,
                        const std::function<absl::StatusOr<Child>(const SandboxSpec&)>& launch) {
  absl::StatusOr<Pipe> output = MakePipe();
  REQUIRE_MESSAGE(output.ok(), output.status().ToString());
  UniqueFd read_end = std::move(output->read_end);
  std::optional<Child> child;
  {
    // The builder and the spec each keep a duplicate of the passed write end; they must be gone
    // before reading, or the pipe never reaches end-of-file.
    UniqueFd write_end = std::move(output->write_end);
    SandboxBuilder local = std::move(builder);
    local.PassFd(write_end.get(), 1);
    auto spec = local.Build();
    REQUIRE_MESSAGE(spec.ok(), spec.status().ToString());
    auto launched = launch(*spec);
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

}  // namespace tokenbox::testing
