// The `tokenbox` command: one binary, one subcommand per job.
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

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
  policy    check tokenboxd's grants, or show what a user may have it start
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

// tokenboxd beside this tokenbox: in the same directory (a build tree), in the sbin of the same
// prefix (an install), or where packages put it.
std::string FindTokenboxd() {
  char self[PATH_MAX];
  const ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
  std::string dir = length > 0 ? std::string(self, static_cast<size_t>(length)) : "";
  dir = dir.substr(0, dir.rfind('/'));
  for (const std::string& candidate :
       {dir + "/tokenboxd", dir + "/../sbin/tokenboxd", std::string("/usr/local/sbin/tokenboxd"),
        std::string("/usr/sbin/tokenboxd")}) {
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// `tokenbox policy` looks users and groups up through NSS, whose modules a static binary such as
// this one cannot load: tokenboxd, which can, does it.
int HandPolicyToTokenboxd(char** argv) {
  const std::string tokenboxd = FindTokenboxd();
  if (tokenboxd.empty()) {
    std::fputs("tokenbox policy: tokenboxd, which reads the policy as the daemon does, is not "
               "beside tokenbox (nor in /usr/local/sbin or /usr/sbin): install it (tools/dev "
               "install)\n",
               stderr);
    return kExitUsage;
  }
  argv[0] = const_cast<char*>("tokenboxd");
  execv(tokenboxd.c_str(), argv);
  std::fprintf(stderr, "tokenbox policy: execv(%s): %s\n", tokenboxd.c_str(), std::strerror(errno));
  return kExitUsage;
}

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
  if (std::strcmp(name, "policy") == 0) return HandPolicyToTokenboxd(argv);
  for (const Command& command : kCommands) {
    if (std::strcmp(name, command.name) == 0) return command.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "tokenbox: unknown command '%s' (see tokenbox --help)\n", name);
  return kExitUsage;
}
