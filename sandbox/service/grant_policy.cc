#include "sandbox/service/grant_policy.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ns/errno_status.h"
#include "ns/unique_fd.h"
#include "sandbox/sandbox.h"
#include "sandbox/service/grant_syntax.h"
#include "token/policy_lint.h"

namespace tokenbox {
namespace {

constexpr size_t kMaxPolicyBytes = 1 << 20;

bool UserExists(const std::string& name) {
  passwd entry, *found = nullptr;
  std::vector<char> buffer(16384);
  return getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) == 0 &&
         found != nullptr;
}

bool GroupExists(const std::string& name) {
  group entry, *found = nullptr;
  std::vector<char> buffer(65536);
  return getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) == 0 &&
         found != nullptr;
}

// The names of the groups `uid` is in, by the user and group databases.
std::vector<std::string> GroupsOf(uid_t uid) {
  passwd entry, *found = nullptr;
  std::vector<char> buffer(16384);
  if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr) {
    return {};
  }
  int count = 64;
  std::vector<gid_t> gids(static_cast<size_t>(count));
  if (getgrouplist(entry.pw_name, entry.pw_gid, gids.data(), &count) < 0) {
    gids.resize(static_cast<size_t>(count));
    if (getgrouplist(entry.pw_name, entry.pw_gid, gids.data(), &count) < 0) return {};
  }
  gids.resize(static_cast<size_t>(count));
  std::vector<std::string> names;
  for (gid_t gid : gids) {
    group g, *hit = nullptr;
    std::vector<char> group_buffer(65536);
    if (getgrgid_r(gid, &g, group_buffer.data(), group_buffer.size(), &hit) == 0 && hit) {
      names.emplace_back(hit->gr_name);
    }
  }
  return names;
}

absl::Status LineError(const std::string& path, int line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ":", line, ": ", what));
}

absl::StatusOr<GrantPolicy::Line> ParseLine(absl::string_view text, const std::string& path,
                                            int number) {
  std::vector<absl::string_view> fields = absl::StrSplit(text, absl::ByAnyChar(" \t"),
                                                         absl::SkipEmpty());
  GrantPolicy::Line line;
  line.number = number;
  absl::string_view who = fields[0];
  if (who == "*") {
    line.who = GrantPolicy::Line::Who::kAnyone;
  } else if (absl::ConsumePrefix(&who, "@")) {
    line.who = GrantPolicy::Line::Who::kGroup;
    line.name = std::string(who);
    if (line.name.empty() || !GroupExists(line.name)) {
      return LineError(path, number, absl::StrCat("no group '", Printable(who), "'"));
    }
  } else {
    line.who = GrantPolicy::Line::Who::kUser;
    line.name = std::string(who);
    if (!UserExists(line.name)) {
      return LineError(path, number, absl::StrCat("no user '", Printable(who), "'"));
    }
  }
  if (fields.size() < 2) {
    return LineError(path, number, "a grant names what it grants after who: items, or '-'");
  }
  if (fields.size() == 2 && fields[1] == "-") return line;
  std::vector<std::string> seen;
  for (size_t i = 1; i < fields.size(); ++i) {
    const absl::string_view item = fields[i];
    const size_t eq = item.find('=');
    if (item == "-") {
      return LineError(path, number, "'-' grants nothing, and stands alone");
    }
    if (eq == absl::string_view::npos) {
      return LineError(path, number, absl::StrCat("'", Printable(item), "' is not KEY=VALUE"));
    }
    const std::string key(item.substr(0, eq));
    const absl::string_view value = item.substr(eq + 1);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      return LineError(path, number, absl::StrCat("'", Printable(key), "' is given twice"));
    }
    seen.push_back(key);
    if (std::optional<DelegateKind> kind = DelegateKindOfGrantKey(key)) {
      absl::StatusOr<DelegateMask> mask = ParseDelegateMask(*kind, value);
      if (!mask.ok()) return LineError(path, number, mask.status().message());
      line.grant.policy[*kind] = *mask;
    } else if (key == "caps") {
      absl::StatusOr<CapabilitySet> caps = CapabilitySet::Parse(value);
      if (!caps.ok()) return LineError(path, number, absl::StrCat("caps: ", caps.status().message()));
      line.grant.caps = *caps;
    } else if (key == "tracing") {
      if (value != "host") {
        return LineError(path, number, "tracing= takes 'host' (tracing the whole machine)");
      }
      line.grant.host_tracing = true;
    } else {
      return LineError(path, number, absl::StrCat("unknown item '", Printable(key),
                                                  "' (cmds, maps, progs, attachs, caps, tracing)"));
    }
  }
  return line;
}

// The items of `requested` that `granted` does not cover, named.
std::vector<std::string> Beyond(DelegateKind kind, const DelegateMask& requested,
                                const DelegateMask& granted) {
  if (granted.any || requested.bits == 0) return {};
  if (requested.any) return {"any"};
  std::vector<std::string> names;
  const uint64_t extra = requested.bits & ~granted.bits;
  for (int value = 0; value < 64; ++value) {
    if ((extra >> value) & 1) {
      DelegateMask one;
      one.bits = uint64_t{1} << value;
      names.push_back(FormatDelegateMask(kind, one));
    }
  }
  return names;
}

}  // namespace

std::string UserName(uid_t uid) {
  passwd entry, *found = nullptr;
  std::vector<char> buffer(16384);
  if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
    return found->pw_name;
  }
  return absl::StrCat(uid);
}

absl::StatusOr<GrantPolicy> GrantPolicy::Parse(absl::string_view text, const std::string& path) {
  GrantPolicy policy;
  policy.path_ = path;
  int number = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++number;
    absl::string_view line = raw.substr(0, raw.find('#'));
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    if (std::any_of(line.begin(), line.end(), [](char c) {
          return !absl::ascii_isprint(static_cast<unsigned char>(c)) && c != '\t';
        })) {
      return LineError(path, number, "control characters or bytes beyond ASCII");
    }
    absl::StatusOr<Line> parsed = ParseLine(line, path, number);
    if (!parsed.ok()) return parsed.status();
    policy.lines_.push_back(*std::move(parsed));
  }
  return policy;
}

absl::StatusOr<GrantPolicy> GrantPolicy::Read(const std::string& path) {
  const std::string dir = path.substr(0, std::max<size_t>(path.rfind('/'), 1));
  UniqueFd dir_fd(open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd && errno == ENOENT) {
    return absl::NotFoundError(absl::StrCat(
        path, " does not exist, so no one is granted anything: the administrator writes one "
              "(tokenbox policy check validates it)"));
  }
  if (!fd) return ErrnoStatus(errno, absl::StrCat("open(", path, ")"));
  struct stat st, dir_st;
  if (fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, absl::StrCat("fstat(", path, ")"));
  if (!dir_fd || fstat(dir_fd.get(), &dir_st) != 0) {
    return ErrnoStatus(errno, absl::StrCat("stat(", dir, ")"));
  }
  for (const auto& [what, where, info] : {std::tuple{"file", path, st}, {"directory", dir, dir_st}}) {
    if (info.st_uid != 0 || (info.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
      return absl::PermissionDeniedError(absl::StrCat(
          "the policy ", what, " ", where, " must be root's and writable by no one else (it is "
          "uid ", info.st_uid, "'s, mode ", absl::Dec(info.st_mode & 07777, absl::kZeroPad4),
          "), so nothing is granted: chown root, chmod go-w"));
    }
  }
  if (!S_ISREG(st.st_mode) || st.st_size > static_cast<off_t>(kMaxPolicyBytes)) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " must be a regular file of at most ", kMaxPolicyBytes, " bytes"));
  }
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, absl::StrCat("read(", path, ")"));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  return Parse(text, path);
}

Grant GrantPolicy::For(uid_t uid) const {
  const std::string user = UserName(uid);
  const std::vector<std::string> groups = GroupsOf(uid);
  Grant grant;
  for (const Line& line : lines_) {
    const bool matches =
        line.who == Line::Who::kAnyone || (line.who == Line::Who::kUser && line.name == user) ||
        (line.who == Line::Who::kGroup &&
         std::find(groups.begin(), groups.end(), line.name) != groups.end());
    if (!matches) continue;
    for (DelegateKind kind : kAllDelegateKinds) {
      grant.policy[kind].bits |= line.grant.policy[kind].bits;
      grant.policy[kind].any = grant.policy[kind].any || line.grant.policy[kind].any;
    }
    grant.caps = grant.caps.Union(line.grant.caps);
    grant.host_tracing = grant.host_tracing || line.grant.host_tracing;
    grant.lines.push_back(line.number);
  }
  return grant;
}

absl::Status GrantPolicy::Check(const Grant& grant, const Sandbox& sandbox,
                                absl::string_view user) const {
  const std::string by = grant.lines.empty()
                             ? absl::StrCat(" (no line of ", path_, " names ", user, ")")
                             : absl::StrCat(" by ", path_, " (line", grant.lines.size() > 1 ? "s " : " ",
                                            absl::StrJoin(grant.lines, ", "), ")");
  for (DelegateKind kind : kAllDelegateKinds) {
    std::vector<std::string> beyond = Beyond(kind, sandbox.policy()[kind], grant.policy[kind]);
    if (!beyond.empty()) {
      return absl::PermissionDeniedError(absl::StrCat(
          GrantKeyOf(kind), " '", absl::StrJoin(beyond, ":"), "' is not granted to ", user, by));
    }
  }
  const CapabilitySet extra =
      sandbox.kept_capabilities().Minus(grant.caps.With(CAP_BPF));
  if (!extra.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "caps '", extra.ToString(), "' (--keep-caps) is not granted to ", user, by));
  }
  if (sandbox.kept_capabilities().Has(CAP_PERFMON) &&
      !DelegatedProgramsReaching(sandbox.policy(), ProgramReach::kWholeMachine).empty() &&
      !grant.host_tracing) {
    return absl::PermissionDeniedError(absl::StrCat(
        "tracing=host (program types that trace the whole machine, with CAP_PERFMON) is not "
        "granted to ", user, by));
  }
  return absl::OkStatus();
}

}  // namespace tokenbox
