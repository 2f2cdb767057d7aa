#include <getopt.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/commands.h"
#include "tools/host_probe.h"
#include "tools/json.h"

namespace tokenbox {
namespace {

constexpr int kExitAllPresent = 0;
constexpr int kExitSomethingMissing = 1;
constexpr int kExitUsage = 2;

constexpr char kProbeHelp[] = R"(Usage: tokenbox probe [--json]

Reports what this machine offers a delegated BPF sandbox: the kernel version, user
namespaces, the new mount API and bpffs, the caller's privilege, and the libbpf version.
Each line says ok or MISSING, what was found, and for a missing item what to do.
Checks are real: throwaway namespaces are created in forked children; nothing on the host
is changed.

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
    std::printf("%-7s %-*s  %s\n", c.ok ? "ok" : "MISSING", static_cast<int>(width),
                c.name.c_str(), c.detail.c_str());
    if (!c.ok && !c.remedy.empty()) {
      std::printf("%-7s %-*s  fix: %s\n", "", static_cast<int>(width), "", c.remedy.c_str());
    }
  }
}

void PrintJson(const std::vector<ProbeCheck>& checks, bool all_ok) {
  std::string out = absl::StrCat("{\"ok\":", all_ok ? "true" : "false", ",\"checks\":[");
  for (size_t i = 0; i < checks.size(); ++i) {
    const ProbeCheck& c = checks[i];
    absl::StrAppend(&out, i ? "," : "", "{\"name\":", JsonString(c.name),
                    ",\"ok\":", c.ok ? "true" : "false", ",\"detail\":", JsonString(c.detail),
                    ",\"remedy\":", JsonString(c.remedy), "}");
  }
  out += "]}\n";
  std::fputs(out.c_str(), stdout);
}

}  // namespace

int ProbeCommand(int argc, char** argv) {
  bool json = false;
  static const option kOptions[] = {
      {"json", no_argument, nullptr, 'j'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  opterr = 0;
  optind = 1;
  for (;;) {
    int opt = getopt_long(argc, argv, "+", kOptions, nullptr);
    if (opt == -1) break;
    switch (opt) {
      case 'j':
        json = true;
        break;
      case 'h':
        std::fputs(kProbeHelp, stdout);
        return kExitAllPresent;
      default:
        std::fprintf(stderr, "tokenbox probe: unknown option '%s' (see tokenbox probe --help)\n",
                     argv[optind - 1]);
        return kExitUsage;
    }
  }
  if (optind < argc) {
    std::fprintf(stderr, "tokenbox probe: unexpected argument '%s' (see tokenbox probe --help)\n",
                 argv[optind]);
    return kExitUsage;
  }
  std::vector<ProbeCheck> checks = ProbeHost();
  bool all_ok = true;
  for (const ProbeCheck& c : checks) all_ok = all_ok && c.ok;
  if (json) {
    PrintJson(checks, all_ok);
  } else {
    PrintText(checks);
    std::printf("%s\n", all_ok ? "tokenbox can run delegated BPF sandboxes here."
                               : "Something tokenbox needs is missing; see the lines above.");
  }
  return all_ok ? kExitAllPresent : kExitSomethingMissing;
}

}  // namespace tokenbox
