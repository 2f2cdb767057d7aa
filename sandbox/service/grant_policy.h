#ifndef TOKENBOX_SANDBOX_SERVICE_GRANT_POLICY_H_
#define TOKENBOX_SANDBOX_SERVICE_GRANT_POLICY_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "token/capability_set.h"
#include "token/delegation_policy.h"

namespace tokenbox {

class Sandbox;

// Who may have tokenboxd start which delegated sandboxes: the administrator's file
// (/etc/tokenbox/delegation.conf), one grant a line:
//
//   # who       what (the kernel's syntax, as tokenbox run takes it)
//   alice       cmds=map_create:prog_load:btf_load maps=array:hash progs=socket_filter attachs=any
//   @bpfdev     cmds=map_create:btf_load maps=array caps=net_admin
//   *           -
//
// NAME is a user, @NAME a group (its members, as the group database has them), * anyone. What
// follows is `-` (nothing), or items: cmds=, maps=, progs=, attachs= (delegate_* values), caps=
// (what --keep-caps may keep besides CAP_BPF) and tracing=host (program types that trace the
// whole machine, with CAP_PERFMON kept). A kind not named grants nothing of it.
inline constexpr char kDefaultPolicyFile[] = "/etc/tokenbox/delegation.conf";

// What the lines that match one caller grant, together.
struct Grant {
  DelegationPolicy policy;
  CapabilitySet caps;  // Besides CAP_BPF, which every grant has.
  bool host_tracing = false;
  std::vector<int> lines;  // Which lines matched, for messages.
};

// A parsed policy file.
class GrantPolicy {
 public:
  // Reads and parses `path`. The file and the directory that holds it must be root's and
  // writable by no one else, and every line valid: otherwise an error that names the fault and
  // where it is (path:line), and the caller grants nothing. A file that does not exist grants
  // nothing to anyone, and says so.
  static absl::StatusOr<GrantPolicy> Read(const std::string& path);
  // Parses `text` as if read from `path` (no ownership checks): what the fuzzer and
  // `tokenbox policy check` exercise.
  static absl::StatusOr<GrantPolicy> Parse(absl::string_view text, const std::string& path);

  // The union of the lines that match the user `uid`, whose groups come from the user and group
  // databases (never from the caller).
  Grant For(uid_t uid) const;

  // OK when `sandbox` asks for nothing beyond `grant`; else one line naming the first item
  // beyond it (and this file).
  absl::Status Check(const Grant& grant, const Sandbox& sandbox, absl::string_view user) const;

  const std::string& path() const { return path_; }

  struct Line {
    int number = 0;
    enum class Who { kUser, kGroup, kAnyone } who = Who::kAnyone;
    std::string name;  // The user or group.
    Grant grant;
  };
  const std::vector<Line>& lines() const { return lines_; }

 private:
  std::string path_;
  std::vector<Line> lines_;
};

// The user name of `uid`, or its number when the user database has none.
std::string UserName(uid_t uid);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_SERVICE_GRANT_POLICY_H_
