#include "sandbox/child/seccomp_install.h"

#include <linux/seccomp.h>
#include <sys/prctl.h>

#include <cerrno>

#include "absl/strings/string_view.h"
#include "ns/errno_status.h"

namespace tokenbox {
namespace {

absl::string_view SeccompRemedy(int err) {
  switch (err) {
    case EINVAL:
      return "not a valid classic BPF program for this kernel; compile it with libseccomp's "
             "seccomp_export_bpf()";
    case ENOMEM:
      return "the filter is too long (the kernel takes at most 4096 instructions across the "
             "filters of a process)";
    case EACCES:
      return "the kernel wants no_new_privs or CAP_SYS_ADMIN first; report this as a tokenbox "
             "bug";
    default:
      return "the kernel refused the filter; check it against libseccomp's seccomp_export_bpf() "
             "output";
  }
}

}  // namespace

absl::Status InstallSeccompFilter(const std::vector<sock_filter>& filter) {
  sock_fprog program = {static_cast<unsigned short>(filter.size()),
                        const_cast<sock_filter*>(filter.data())};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0) return absl::OkStatus();
  const int err = errno;
  return ErrnoStatus(err, "prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER)", SeccompRemedy(err));
}

}  // namespace tokenbox
