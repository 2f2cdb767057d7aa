#include "tools/deny_syscalls_option.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ns/errno_status.h"
#include "ns/unique_fd.h"

namespace tokenbox {
namespace {

constexpr int kMaxErrno = 4095;

// ENOSYS, or 38; nullopt for neither.
std::optional<int> ParseErrno(absl::string_view text) {
  int number = 0;
  if (absl::SimpleAtoi(text, &number)) {
    if (number > 0 && number <= kMaxErrno) return number;
    return std::nullopt;
  }
  for (int err = 1; err <= kMaxErrno; ++err) {
    if (ErrnoName(err) == text) return err;
  }
  return std::nullopt;
}

struct ContextDeleter {
  void operator()(void* context) const { seccomp_release(context); }
};

}  // namespace

absl::StatusOr<std::vector<sock_filter>> DenySyscallsFilter(const std::string& list) {
  const std::string option = absl::StrCat("--deny-syscalls: '", Printable(list), "'");
  if (list.empty()) return absl::InvalidArgumentError(absl::StrCat(option, " names no system call"));
  std::unique_ptr<void, ContextDeleter> context(seccomp_init(SCMP_ACT_ALLOW));
  if (context == nullptr) return absl::ResourceExhaustedError("seccomp_init failed");
  for (absl::string_view entry : absl::StrSplit(list, ',')) {
    std::vector<absl::string_view> parts = absl::StrSplit(entry, absl::MaxSplits(':', 1));
    const std::string name(parts[0]);
    const int number = seccomp_syscall_resolve_name(name.c_str());
    if (name.empty() || number == __NR_SCMP_ERROR) {
      return absl::InvalidArgumentError(absl::StrCat(
          option, ": no system call is called '", Printable(name), "' on this architecture"));
    }
    const std::optional<int> error =
        parts.size() == 2 ? ParseErrno(parts[1]) : std::optional<int>(EPERM);
    if (!error.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(option, ": '", Printable(parts[1]),
                       "' is not an errno (a name such as ENOSYS, or 1 to ", kMaxErrno, ")"));
    }
    if (int rc = seccomp_rule_add(context.get(), SCMP_ACT_ERRNO(*error), number, 0); rc != 0) {
      return ErrnoStatus(-rc, absl::StrCat(option, ": seccomp_rule_add(", name, ")"),
                         "a system call named twice with different errnos is refused");
    }
  }
  // libseccomp writes the program to an fd; a memfd keeps it off the disk.
  UniqueFd program(memfd_create("tokenbox-seccomp", MFD_CLOEXEC));
  if (!program) return ErrnoStatus(errno, "memfd_create(seccomp filter)");
  if (int rc = seccomp_export_bpf(context.get(), program.get()); rc != 0) {
    return ErrnoStatus(-rc, absl::StrCat(option, ": seccomp_export_bpf"));
  }
  const off_t size = lseek(program.get(), 0, SEEK_CUR);
  if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0) {
    return absl::InternalError(absl::StrCat(option, ": libseccomp wrote ", size, " bytes"));
  }
  std::vector<sock_filter> filter(static_cast<size_t>(size) / sizeof(sock_filter));
  if (pread(program.get(), filter.data(), static_cast<size_t>(size), 0) != size) {
    return ErrnoStatus(errno, absl::StrCat(option, ": pread(seccomp filter)"));
  }
  return filter;
}

}  // namespace tokenbox
