// tokenbox policy: the administrator's view of tokenboxd's grants. It runs in the tokenboxd
// binary (tokenbox, a static binary, hands it over), which can look users and groups up
// through NSS as the daemon does.
#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ns/errno_status.h"
#include "sandbox/service/grant_policy.h"
#include "sandbox/service/grant_syntax.h"
#include "token/policy_lint.h"
#include "tools/commands.h"
#include "tools/option_parser.h"

namespace tokenbox {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitInvalid = 1;
constexpr int kExitUsage = 2;

constexpr char kUsage[] = R"(Usage: tokenbox policy check [FILE]
       tokenbox policy show [--user=NAME] [FILE]

What tokenboxd grants, read from FILE (default /etc/tokenbox/delegation.conf) as the daemon
reads it for each request: the file and its directory root's and writable by no one else,
every line valid.

  check          say whether the daemon would accept FILE, or where it is wrong (FILE:LINE)
  show           what NAME (default: you) may have tokenboxd start: the lines that name
                 them, their union, the capabilities it needs inside, and what the program
                 types it delegates reach beyond the sandbox
  --user=NAME    whose grant to show
  --help         print this help

Exit status: 0 when the file is valid, 1 when it is not (nothing is granted then), 2 on a
usage error.
)";

int Invalid(const absl::Status& status) {
  std::fprintf(stderr, "tokenbox policy: %s\n", std::string(status.message()).c_str());
  return kExitInvalid;
}

int Check(const std::string& path) {
  absl::StatusOr<GrantPolicy> policy = GrantPolicy::Read(path);
  if (!policy.ok()) return Invalid(policy.status());
  std::printf("%s: %zu grant%s, valid\n", path.c_str(), policy->lines().size(),
              policy->lines().size() == 1 ? "" : "s");
  return kExitOk;
}

int Show(const std::string& path, const std::string& user) {
  absl::StatusOr<GrantPolicy> policy = GrantPolicy::Read(path);
  if (!policy.ok()) return Invalid(policy.status());
  uid_t uid = getuid();
  if (!user.empty()) {
    passwd entry, *found = nullptr;
    std::vector<char> buffer(16384);
    if (getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
        found == nullptr) {
      std::fprintf(stderr, "tokenbox policy: no user '%s'\n", Printable(user).c_str());
      return kExitUsage;
    }
    uid = found->pw_uid;
  }
  const Grant grant = policy->For(uid);
  const std::string name = UserName(uid);
  if (grant.lines.empty()) {
    std::printf("%s: no line of %s names %s: tokenboxd grants nothing\n", name.c_str(),
                path.c_str(), name.c_str());
    return kExitOk;
  }
  std::printf("%s: lines %s of %s\n", name.c_str(), absl::StrJoin(grant.lines, ", ").c_str(),
              path.c_str());
  std::printf("  %-13s %s\n", "grants", FormatGrant(grant.policy, grant.caps, grant.host_tracing).c_str());
  std::printf("  %-13s %s\n", "needs inside", RequiredCapabilities(grant.policy).ToString().c_str());
  for (const std::string& sentence : DescribeReach(grant.policy)) {
    std::printf("  %-13s %s\n", "reaches", sentence.c_str());
  }
  return kExitOk;
}

}  // namespace

int PolicyCommand(int argc, char** argv) {
  enum { kOptUser = 1, kOptHelp };
  static constexpr OptionSpec kSpecs[] = {{"user", 1, kOptUser}, {"help", 0, kOptHelp}};
  const std::string subcommand = argc >= 2 ? argv[1] : "";
  if (subcommand == "--help" || subcommand == "help") {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  if (subcommand != "check" && subcommand != "show") {
    std::fprintf(stderr, "tokenbox policy: give check or show (see tokenbox policy --help)\n");
    return kExitUsage;
  }
  // The subcommand stands where a command's name would: its options follow it.
  absl::StatusOr<CommandLine> line = ParseCommandLine(argc - 1, argv + 1, kSpecs);
  if (!line.ok()) {
    std::fprintf(stderr, "tokenbox policy: %s (see tokenbox policy --help)\n",
                 std::string(line.status().message()).c_str());
    return kExitUsage;
  }
  std::string user;
  for (const ParsedOption& option : line->options) {
    if (option.id == kOptHelp) {
      std::fputs(kUsage, stdout);
      return kExitOk;
    }
    user = option.value;
  }
  if (line->operands.size() > 1 || (subcommand == "check" && !user.empty())) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  const std::string path = line->operands.empty() ? kDefaultPolicyFile : line->operands[0];
  return subcommand == "check" ? Check(path) : Show(path, user);
}

}  // namespace tokenbox
