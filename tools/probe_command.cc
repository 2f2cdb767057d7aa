#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tools/commands.h"
#include "tools/host_probe.h"
#include "tools/json.h"
#include "tools/option_parser.h"
#include "tools/sandbox_flags.h"

namespace tokenbox {
namespace {

constexpr int kExitAllPresent = 0;
constexpr int kExitSomethingMissing = 1;
constexpr int kExitUsage = 2;

constexpr char kProbeHelp[] = R"(Usage: tokenbox probe [--json]

Reports what this machine offers a delegated BPF sandbox: the kernel version, user
namespaces, the new mount API and bpffs, the caller's privilege, BPF token support, and
the libbpf version.
Each line says ok, MISSING or UNTESTED (this caller could not check it), what was found,
and for an item that is not ok what to do.
Checks are real: throwaway namespaces are created in forked children; nothing on the host
is changed. Then it lists what every sandbox gets by default, and the option of tokenbox run
that gives each up, with what that costs.

Options:
  --json    print the report as one JSON object
  --help    print this help

Exit status: 0 when everything the launcher needs is present, 1 when something is
missing, 2 on a usage error.
)";

void PrintText(const std::vector<ProbeCheck>& checks) {
  size_t width = 0;
  for (const ProbeCheck& c : checks) width = std::max(width, c.name.size());
  for (const ProbeCheck& c : checks) {
    std::printf("%-8s %-*s  %s\n", c.ok ? "ok" : c.tested ? "MISSING" : "UNTESTED",
                static_cast<int>(width), c.name.c_str(), c.detail.c_str());
    if (!c.ok && !c.remedy.empty()) {
      std::printf("%-8s %-*s  fix: %s\n", "", static_cast<int>(width), "", c.remedy.c_str());
    }
  }
}

// "--share-net: share tokenbox's network namespace: ...", its help on one line.
std::string OptOut(const SandboxDefault& protection) {
  if (protection.opt_out == nullptr) return "";
  const SandboxFlag* flag = FindSandboxFlag(protection.opt_out);
  return absl::StrCat("--", protection.opt_out, ": ",
                      flag == nullptr ? "" : absl::StrReplaceAll(flag->help, {{"\n", " "}}));
}

void PrintDefaults() {
  std::printf("\nEvery sandbox gets, unless an option of tokenbox run gives it up:\n");
  for (const SandboxDefault& protection : SandboxDefaults()) {
    std::printf("  %s\n", protection.protection);
    if (protection.opt_out != nullptr) std::printf("      %s\n", OptOut(protection).c_str());
  }
}

void PrintJson(const std::vector<ProbeCheck>& checks, bool all_ok) {
  std::string out = absl::StrCat("{\"ok\":", all_ok ? "true" : "false", ",\"checks\":[");
  for (size_t i = 0; i < checks.size(); ++i) {
    const ProbeCheck& c = checks[i];
    absl::StrAppend(&out, i ? "," : "", "{\"name\":", JsonString(c.name),
                    ",\"ok\":", c.ok ? "true" : "false",
                    ",\"tested\":", c.tested ? "true" : "false", ",\"detail\":", JsonString(c.detail),
                    ",\"remedy\":", JsonString(c.remedy), "}");
  }
  out += "],\"defaults\":[";
  bool first = true;
  for (const SandboxDefault& protection : SandboxDefaults()) {
    absl::StrAppend(&out, first ? "" : ",", "{\"protection\":", JsonString(protection.protection),
                    ",\"opt_out\":", JsonString(OptOut(protection)), "}");
    first = false;
  }
  out += "]}\n";
  std::fputs(out.c_str(), stdout);
}

}  // namespace

int ProbeCommand(int argc, char** argv) {
  enum { kOptJson = 1, kOptHelp = 2 };
  static constexpr OptionSpec kSpecs[] = {{"json", 0, kOptJson}, {"help", 0, kOptHelp}};
  absl::StatusOr<CommandLine> line = ParseCommandLine(argc, argv, kSpecs);
  if (!line.ok()) {
    std::fprintf(stderr, "tokenbox probe: %s (see tokenbox probe --help)\n",
                 std::string(line.status().message()).c_str());
    return kExitUsage;
  }
  bool json = false;
  for (const ParsedOption& option : line->options) {
    if (option.id == kOptHelp) {
      std::fputs(kProbeHelp, stdout);
      return kExitAllPresent;
    }
    json = json || option.id == kOptJson;
  }
  if (!line->operands.empty()) {
    std::fprintf(stderr, "tokenbox probe: unexpected argument '%s' (see tokenbox probe --help)\n",
                 line->operands[0].c_str());
    return kExitUsage;
  }
  std::vector<ProbeCheck> checks = ProbeHost();
  bool all_ok = true, all_tested = true;
  for (const ProbeCheck& c : checks) {
    all_ok = all_ok && c.ok;
    all_tested = all_tested && c.tested;
  }
  if (json) {
    PrintJson(checks, all_ok);
  } else {
    PrintText(checks);
    std::printf("%s%s\n",
                all_ok ? "tokenbox can run delegated BPF sandboxes here."
                       : "Something tokenbox needs is missing; see the lines above.",
                all_tested ? "" : " Run tokenbox probe as root to check the UNTESTED lines.");
    PrintDefaults();
  }
  return all_ok ? kExitAllPresent : kExitSomethingMissing;
}

}  // namespace tokenbox
