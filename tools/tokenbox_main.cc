// The `tokenbox` command: one binary, one subcommand per job.
#include <cstdio>
#include <cstring>

#include "tools/commands.h"

namespace {

constexpr int kExitUsage = 2;

constexpr char kHelp[] = R"(Usage: tokenbox COMMAND [OPTIONS]

tokenbox runs a program in a fresh user and mount namespace with a delegated BPF
filesystem, so that it can create a BPF token and load exactly the BPF maps, programs
and attach types a policy names while holding nothing but CAP_BPF.

Commands:
  run       run a program in a delegated BPF sandbox (tokenbox run --help)
  fuzz      run a libFuzzer binary in one, its corpus the only writable place
  probe     report what this machine supports (kernel, namespaces, bpffs, tokens, libbpf)
  explain   show what a delegation policy means: canonical form, capabilities, warnings
  help      print this help

Run 'tokenbox COMMAND --help' for a command's options and exit codes.
)";

struct Command {
  const char* name;
  int (*run)(int argc, char** argv);
};

constexpr Command kCommands[] = {
    {"probe", tokenbox::ProbeCommand},
    {"explain", tokenbox::ExplainCommand},
    {"run", tokenbox::RunCommand},
    {"fuzz", tokenbox::FuzzCommand},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kHelp, stderr);
    return kExitUsage;
  }
  const char* name = argv[1];
  if (std::strcmp(name, "help") == 0 || std::strcmp(name, "--help") == 0 ||
      std::strcmp(name, "-h") == 0) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  for (const Command& command : kCommands) {
    if (std::strcmp(name, command.name) == 0) return command.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "tokenbox: unknown command '%s' (see tokenbox --help)\n", name);
  return kExitUsage;
}
