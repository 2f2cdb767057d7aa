// Runs inside a sandbox and prints what it finds, one "key=value" per line, for the launcher
// tests to check from outside: capabilities, securebits, no_new_privs, ids, groups, open fds,
// the token environment, and whether the token fd really is a token.
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_join.h"
#include "sandbox/inside.h"
#include "tests/process_state.h"

namespace {

void PrintStatusLine(const std::string& key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key + ":", 0) == 0) {
      std::string value = line.substr(key.size() + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      std::printf("%s=%s\n", key.c_str(), value.c_str());
    }
  }
}

}  // namespace

int main() {
  for (const char* key : {"CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb", "NoNewPrivs", "Groups"}) {
    PrintStatusLine(key);
  }
  std::printf("securebits=0x%x\n", prctl(PR_GET_SECUREBITS));
  std::printf("uid=%d gid=%d\n", getuid(), getgid());
  unsigned long inside = 0, outside = 0, count = 0;
  {
    std::ifstream uid_map("/proc/self/uid_map");  // Closed before the fds are listed.
    uid_map >> inside >> outside >> count;
  }
  std::printf("uid_map=%lu:%lu:%lu\n", inside, outside, count);
  std::printf("fds=%s\n", absl::StrJoin(tokenbox::testing::OpenFds(), ",").c_str());
  for (const char* key : {tokenbox::kTokenFdEnv, tokenbox::kLibbpfTokenPathEnv}) {
    const char* value = getenv(key);
    std::printf("%s=%s\n", key, value ? value : "(unset)");
  }
  auto sandbox = tokenbox::CurrentSandbox();
  std::printf("token=%s\n", sandbox.ok() ? "ok" : std::string(sandbox.status().message()).c_str());
  char cwd[4096];
  std::printf("cwd=%s\n", getcwd(cwd, sizeof(cwd)) ? cwd : "?");
  return 0;
}
