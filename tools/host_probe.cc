#include "tools/host_probe.h"

#include <bpf/libbpf.h>
#include <limits.h>
#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ns/errno_status.h"
#include "ns/mount_api.h"
#include "ns/run_in_child.h"
#include "sandbox/host_resources/cgroup_hierarchy.h"
#include "sandbox/launcher.h"
#include "sandbox/service/grant_syntax.h"
#include "sandbox/service/service_client.h"
#include "sandbox/token_probe.h"
#include "token/process_capabilities.h"

namespace tokenbox {
namespace {

constexpr int kMinKernelMajor = 6;
constexpr int kMinKernelMinor = 9;
constexpr int kMinLibbpfMajor = 1;
constexpr int kMinLibbpfMinor = 4;

// The trimmed contents of a small /proc file, or false when it cannot be read.
bool ReadSmallFile(const std::string& path, std::string* out) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream buffer;
  buffer << in.rdbuf();
  *out = std::string(absl::StripAsciiWhitespace(buffer.str()));
  return true;
}

ProbeCheck CheckKernel() {
  ProbeCheck check{"kernel"};
  utsname uts;
  uname(&uts);
  int major = 0, minor = 0;
  check.detail = absl::StrCat("Linux ", uts.release);
  check.ok = ParseKernelRelease(uts.release, &major, &minor) &&
             (major > kMinKernelMajor || (major == kMinKernelMajor && minor >= kMinKernelMinor));
  if (!check.ok) {
    check.remedy = absl::StrCat("BPF tokens need Linux ", kMinKernelMajor, ".", kMinKernelMinor,
                                " or newer; boot a newer kernel");
  }
  return check;
}

ProbeCheck CheckMaxUserNamespaces() {
  ProbeCheck check{"user.max_user_namespaces"};
  std::string value;
  int64_t limit = 0;
  if (!ReadSmallFile("/proc/sys/user/max_user_namespaces", &value) ||
      !absl::SimpleAtoi(value, &limit)) {
    check.detail = "cannot read /proc/sys/user/max_user_namespaces";
    check.remedy = "the kernel needs CONFIG_USER_NS=y";
    return check;
  }
  check.ok = limit > 0;
  check.detail = absl::StrCat("= ", limit);
  if (!check.ok) check.remedy = "sysctl -w user.max_user_namespaces=15000";
  return check;
}

// Debian's and Ubuntu's switches only restrict unprivileged callers. tokenbox's child creates its
// user namespace while it is still the privileged parent's copy, so they are reported, not
// required.
ProbeCheck CheckDistributionSwitch(const std::string& name, const std::string& path,
                                   const std::string& restricting_value) {
  ProbeCheck check{name, true};
  std::string value;
  if (!ReadSmallFile(path, &value)) {
    check.detail = "not present on this kernel";
  } else if (value == restricting_value) {
    check.detail = absl::StrCat("= ", value,
                                " (restricts unprivileged callers only; tokenbox unshares while "
                                "privileged, so it is unaffected)");
  } else {
    check.detail = absl::StrCat("= ", value);
  }
  return check;
}

ProbeCheck CheckUserNamespaceCreation() {
  ProbeCheck check{"user and mount namespaces"};
  absl::Status status = RunInChild([] {
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
      return ErrnoStatus(errno, "unshare(CLONE_NEWUSER|CLONE_NEWNS)");
    }
    return absl::OkStatus();
  });
  check.ok = status.ok();
  check.detail = check.ok ? "a child created both" : std::string(status.message());
  if (!check.ok) {
    check.remedy = "the kernel needs CONFIG_USER_NS; a seccomp filter or LSM may also forbid it";
  }
  return check;
}

ProbeCheck CheckBpffs() {
  ProbeCheck check{"bpffs"};
  std::ifstream filesystems("/proc/filesystems");
  std::string line;
  while (std::getline(filesystems, line)) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, '\t');
    if (!fields.empty() && fields.back() == "bpf") check.ok = true;
  }
  check.detail = check.ok ? "listed in /proc/filesystems" : "missing from /proc/filesystems";
  if (!check.ok) check.remedy = "the kernel needs CONFIG_BPF_SYSCALL=y";
  return check;
}

// fsopen(2) answers ENOSYS only when the kernel lacks the new mount API. Any other refusal
// (EPERM for a caller without CAP_SYS_ADMIN over its mount namespace, ENODEV for a kernel without
// bpffs) proves the call exists; what the caller may do with it is for other checks to report.
ProbeCheck CheckMountApi() {
  ProbeCheck check{"new mount API"};
  absl::StatusOr<UniqueFd> fs = FsOpen("bpf");
  if (fs.ok()) {
    check.ok = true;
    check.detail = "fsopen(\"bpf\") works";
    return check;
  }
  const int err = ErrnoOf(fs.status());
  if (err == ENOSYS) {
    check.detail = std::string(fs.status().message());
    check.remedy = "fsopen/fsconfig/fsmount need Linux >= 5.2";
    return check;
  }
  if (err == ENODEV) {
    check.ok = true;
    check.detail = "fsopen exists (it refused \"bpf\" with ENODEV: see the bpffs line)";
    return check;
  }
  if (err == EPERM) {
    check.ok = true;
    // Where the caller may create namespaces, show the call working in one it owns.
    absl::Status in_own_namespace = RunInChild([]() -> absl::Status {
      if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
        return ErrnoStatus(errno, "unshare(CLONE_NEWUSER|CLONE_NEWNS)");
      }
      return FsOpen("bpf").status();
    });
    check.detail =
        in_own_namespace.ok()
            ? "fsopen(\"bpf\") works in a throwaway user and mount namespace (EPERM in the "
              "caller's own: it lacks CAP_SYS_ADMIN there)"
            : "fsopen exists (EPERM, not ENOSYS), but this caller may not use it here";
    return check;
  }
  check.detail = std::string(fs.status().message());
  return check;
}

ProbeCheck CheckPrivilege() {
  ProbeCheck check{"CAP_SYS_ADMIN in the initial user namespace"};
  std::string why_not = WhyCannotDelegate();
  check.ok = why_not.empty();
  check.detail = check.ok ? absl::StrCat("held (uid ", geteuid(), ")")
                          : absl::StrCat(why_not, ": tokenbox asks tokenboxd (below)");
  check.tested = check.ok;
  return check;
}

// For a caller who is not root: whether tokenboxd answers, and what it grants this caller.
ProbeCheck CheckService(absl::StatusOr<ServiceGrant>& grant) {
  const LaunchOptions options;
  ProbeCheck check{"tokenboxd"};
  grant = AskServiceGrant(options);
  if (!grant.ok()) {
    check.detail = std::string(grant.status().message());
    check.remedy = "ask the administrator to start tokenboxd (tools/dev install) and grant you a "
                   "line in /etc/tokenbox/delegation.conf";
    return check;
  }
  check.ok = !grant->policy.empty();
  check.detail = grant->lines.empty()
                     ? absl::StrCat("answers at ", ServiceSocketPath(options), "; no line of ",
                                    grant->policy_file, " names uid ", getuid())
                     : absl::StrCat("answers at ", ServiceSocketPath(options), "; grants ",
                                    FormatGrant(grant->policy, grant->caps, grant->host_tracing),
                                    " (", grant->policy_file, " lines ",
                                    absl::StrJoin(grant->lines, ", "), ")");
  if (!check.ok) {
    check.remedy = absl::StrCat("ask the administrator for a line in ", grant->policy_file);
  }
  return check;
}

ProbeCheck CheckLibbpf() {
  ProbeCheck check{"libbpf"};
  int major = static_cast<int>(libbpf_major_version());
  int minor = static_cast<int>(libbpf_minor_version());
  check.detail = libbpf_version_string();
  check.ok = major > kMinLibbpfMajor || (major == kMinLibbpfMajor && minor >= kMinLibbpfMinor);
  if (!check.ok) {
    check.remedy = absl::StrCat("the token API needs libbpf >= ", kMinLibbpfMajor, ".",
                                kMinLibbpfMinor, " (Debian: bookworm-backports libbpf1)");
  }
  return check;
}

// Where the sandbox's cgroup gets `controller` from, and whether tokenbox can give it to one.
ProbeCheck CheckCgroupController(const char* controller, const char* needed_by) {
  ProbeCheck check{absl::StrCat("cgroup controller: ", controller)};
  const std::string consequence = absl::StrCat("without it, ", needed_by, " fails to launch");
  absl::StatusOr<CgroupHierarchy> hierarchy =
      CgroupLayout::Read().ControllerHierarchy(controller);
  if (!hierarchy.ok()) {
    check.detail = std::string(hierarchy.status().message());
    check.remedy = consequence;
    return check;
  }
  if (hierarchy->version == 1) {
    check.ok = true;
    check.detail = absl::StrCat("cgroup v1 hierarchy at ", hierarchy->mount_point,
                                ", tokenbox's cgroup ", hierarchy->launcher_cgroup);
    return check;
  }
  // cgroup v2 gives a child a controller only from a cgroup without processes (or the root):
  // tokenbox's own cgroup holds tokenbox.
  std::ifstream subtree(hierarchy->LauncherDirectory() + "/cgroup.subtree_control");
  std::string enabled;
  std::getline(subtree, enabled);
  const std::vector<std::string> names = absl::StrSplit(enabled, ' ');
  check.ok = hierarchy->launcher_cgroup == "/" ||
             std::find(names.begin(), names.end(), controller) != names.end();
  check.detail = absl::StrCat("cgroup2 at ", hierarchy->mount_point, ", tokenbox's cgroup ",
                              hierarchy->launcher_cgroup);
  if (!check.ok) {
    check.remedy = absl::StrCat(
        "tokenbox's cgroup holds processes, so cgroup v2 lets it give its children no "
        "controller: start tokenbox in a cgroup of its own below one with ", controller,
        " in cgroup.subtree_control; ", consequence);
  }
  return check;
}

}  // namespace

bool ParseKernelRelease(const std::string& release, int* major, int* minor) {
  std::vector<absl::string_view> parts = absl::StrSplit(release, absl::MaxSplits('.', 2));
  if (parts.size() < 2) return false;
  absl::string_view minor_text = parts[1];
  size_t digits = 0;
  while (digits < minor_text.size() && absl::ascii_isdigit(minor_text[digits])) ++digits;
  return absl::SimpleAtoi(parts[0], major) &&
         absl::SimpleAtoi(minor_text.substr(0, digits), minor);
}

namespace {

// Runs /bin/true in a sandbox tokenboxd starts with this caller's grant, with `writable` bound
// in, as a test runner binds its output directory.
absl::Status LaunchThroughServiceWith(const ServiceGrant& grant,
                                      const std::vector<std::string>& writable) {
  SandboxBuilder builder;
  builder.Policy(grant.policy);
  for (const std::string& dir : writable) builder.Bind(dir, dir);
  absl::StatusOr<Sandbox> sandbox = builder.Build();
  if (!sandbox.ok()) return sandbox.status();
  absl::StatusOr<Command> command = CommandBuilder().Program({"/bin/true"}).Build();
  if (!command.ok()) return command.status();
  absl::StatusOr<Child> child = Launch(*sandbox, *command);
  if (!child.ok()) return child.status();
  absl::StatusOr<ExitStatus> status = child->Wait();
  if (!status.ok()) return status.status();
  return status->ShellExitCode() == 0
             ? absl::OkStatus()
             : absl::InternalError(absl::StrCat("/bin/true ", status->ToString()));
}

bool Grants(const absl::StatusOr<ServiceGrant>& grant) {
  return grant.ok() && !grant->policy.empty();
}

// A caller who is not root sees tokens work in a sandbox tokenboxd starts with its grant: the
// daemon configures the bpffs with names, so delegate options and BTF names work too.
void AddTokenChecksThroughService(const absl::StatusOr<ServiceGrant>& grant,
                                         const char* const (&names)[3],
                                         std::vector<ProbeCheck>* checks) {
  const absl::Status launched =
      Grants(grant) ? LaunchThroughServiceWith(*grant, {})
                    : absl::FailedPreconditionError("tokenboxd grants nothing to check with");
  for (const char* name : names) {
    ProbeCheck check{name, launched.ok()};
    check.detail = launched.ok() ? "a sandbox tokenboxd started with your grant made its token"
                                 : std::string(launched.message());
    check.tested = Grants(grant);
    if (!launched.ok() && check.tested) {
      check.remedy = "BPF tokens need Linux >= 6.9 with CONFIG_DEBUG_INFO_BTF=y";
    }
    checks->push_back(check);
  }
}

// Whether a writable bind works for this caller where it will bind (its working directory, the
// temporary directory): tokenboxd idmaps each, and refuses a filesystem that cannot be.
ProbeCheck CheckIdmappedBinds(const absl::StatusOr<ServiceGrant>& grant) {
  ProbeCheck check{"idmapped writable binds"};
  check.tested = Grants(grant);
  if (!check.tested) {
    check.detail = "tokenboxd grants nothing to check with";
    return check;
  }
  char cwd[PATH_MAX];
  std::vector<std::string> dirs;
  if (getcwd(cwd, sizeof(cwd)) != nullptr) dirs.push_back(cwd);
  const char* tmpdir = std::getenv("TMPDIR");
  dirs.push_back(tmpdir != nullptr && tmpdir[0] == '/' ? tmpdir : "/tmp");
  std::vector<std::string> failed;
  for (const std::string& dir : dirs) {
    absl::Status bound = LaunchThroughServiceWith(*grant, {dir});
    if (!bound.ok()) failed.push_back(absl::StrCat(dir, ": ", bound.message()));
  }
  check.ok = failed.empty();
  check.detail = check.ok ? absl::StrCat("tokenboxd idmaps ", absl::StrJoin(dirs, " and "),
                                         ": what a sandbox writes there is yours")
                          : absl::StrJoin(failed, "; ");
  if (!check.ok) {
    check.remedy = "bind directories on a filesystem that can be idmapped (ext4, xfs, btrfs, "
                   "tmpfs), or run as yourself with --uid=self --gid=self";
  }
  return check;
}

// Token checks configure real bpffs contexts, which only a privileged caller can do, or
// tokenboxd for one who is not.
void AddTokenChecks(std::vector<ProbeCheck>* checks,
                           const absl::StatusOr<ServiceGrant>* grant) {
  static const char* const names[] = {"BPF token: delegate options", "BPF token: BTF names",
                                      "BPF token: creation"};
  if (grant != nullptr) return AddTokenChecksThroughService(*grant, names, checks);
  TokenSupport support = ProbeTokenSupport();
  const std::pair<absl::Status, const char*> results[] = {
      {support.delegate_options, "the kernel refuses a bogus delegate_cmds value (EINVAL)"},
      {support.btf_names, "delegate names resolve through the kernel's BTF"},
      {support.token, "a throwaway user namespace created a token that reads back its policy"},
  };
  for (int i = 0; i < 3; ++i) {
    const auto& [status, ok_detail] = results[i];
    ProbeCheck check{names[i], status.ok()};
    check.detail = status.ok() ? ok_detail : std::string(status.message());
    if (!status.ok()) check.remedy = "BPF tokens need Linux >= 6.9 with CONFIG_DEBUG_INFO_BTF=y";
    checks->push_back(check);
  }
}

}  // namespace

std::vector<ProbeCheck> ProbeHost() {
  std::vector<ProbeCheck> checks = {
      CheckKernel(),
      CheckMaxUserNamespaces(),
      CheckDistributionSwitch("kernel.unprivileged_userns_clone (Debian)",
                              "/proc/sys/kernel/unprivileged_userns_clone", "0"),
      CheckDistributionSwitch("kernel.apparmor_restrict_unprivileged_userns (Ubuntu)",
                              "/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1"),
      CheckUserNamespaceCreation(),
      CheckBpffs(),
      CheckMountApi(),
      CheckPrivilege(),
  };
  absl::StatusOr<ServiceGrant> grant = absl::UnknownError("not asked");
  const bool through_service = !WhyCannotDelegate().empty();
  if (through_service) checks.push_back(CheckService(grant));
  AddTokenChecks(&checks, through_service ? &grant : nullptr);
  if (through_service) checks.push_back(CheckIdmappedBinds(grant));
  checks.push_back(CheckLibbpf());
  checks.push_back(CheckCgroupController("pids", "every sandbox (the default --pids-max)"));
  checks.push_back(CheckCgroupController("memory", "--memory-max"));
  checks.push_back(CheckCgroupController("cpu", "--cpu-max"));
  return checks;
}

}  // namespace tokenbox
