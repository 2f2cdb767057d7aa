#include "tools/host_probe.h"

#include <bpf/libbpf.h>
#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ns/errno_status.h"
#include "ns/mount_api.h"
#include "ns/run_in_child.h"
#include "sandbox/host_resources/cgroup_hierarchy.h"
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
  check.detail = check.ok ? absl::StrCat("held (uid ", geteuid(), ")") : why_not;
  if (!check.ok) {
    check.remedy =
        "configuring a delegated bpffs needs CAP_SYS_ADMIN in the initial user namespace: run "
        "tokenbox as root (sudo), outside any container's user namespace";
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

// Token checks configure real bpffs contexts, which only a privileged caller can do.
static void AddTokenChecks(std::vector<ProbeCheck>* checks) {
  const char* names[] = {"BPF token: delegate options", "BPF token: BTF names",
                         "BPF token: creation"};
  if (!WhyCannotDelegate().empty()) {
    for (const char* name : names) {
      checks->push_back({name, false,
                         "needs CAP_SYS_ADMIN in the initial user namespace to check",
                         "run tokenbox probe as root", /*tested=*/false});
    }
    return;
  }
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
  AddTokenChecks(&checks);
  checks.push_back(CheckLibbpf());
  checks.push_back(CheckCgroupController("pids", "every sandbox (the default --pids-max)"));
  checks.push_back(CheckCgroupController("memory", "--memory-max"));
  checks.push_back(CheckCgroupController("cpu", "--cpu-max"));
  return checks;
}

}  // namespace tokenbox
