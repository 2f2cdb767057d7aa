#include "token/token.h"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ns/errno_status.h"
#include "ns/mount_api.h"
#include "token/process_capabilities.h"

namespace tokenbox {
namespace {

constexpr int64_t kBpfFsMagic = 0xcafe4a11;

// struct bpf_token_info (uapi since Linux 6.17; newer than the headers this builds against).
struct TokenInfo {
  uint64_t allowed_cmds;
  uint64_t allowed_maps;
  uint64_t allowed_progs;
  uint64_t allowed_attachs;
};

bool IsBpffs(int fd) {
  struct statfs fs;
  return fstatfs(fd, &fs) == 0 && static_cast<int64_t>(fs.f_type) == kBpfFsMagic;
}

absl::StatusOr<uint64_t> ParseAllowedValue(absl::string_view key, absl::string_view value) {
  value = absl::StripAsciiWhitespace(value);
  if (value == "any") return ~uint64_t{0};
  uint64_t mask = 0;
  if (absl::ConsumePrefix(&value, "0x") ? absl::SimpleHexAtoi(value, &mask)
                                        : absl::SimpleAtoi(value, &mask)) {
    return mask;
  }
  return absl::DataLossError(absl::StrCat("token fdinfo: bad value '", value, "' for ", key));
}

DelegateMask MaskFromBits(uint64_t bits) { return DelegateMask{bits, bits == ~uint64_t{0}}; }

}  // namespace

absl::Status TokenCreateError(int err, int bpffs_fd) {
  constexpr absl::string_view kCall = "BPF_TOKEN_CREATE";
  switch (err) {
    case EBADF: {
      const int flags = fcntl(bpffs_fd, F_GETFL);
      if (flags < 0) {
        return ErrnoStatus(err, kCall,
                           "the fd is not open: pass an open fd on the delegated bpffs");
      }
      if (flags & O_PATH) {
        return ErrnoStatus(err, kCall,
                           "the fd is O_PATH, as the raw fd from fsmount() is: open the bpffs "
                           "root with openat(fd, \".\", O_RDONLY|O_DIRECTORY) first (CreateToken "
                           "does that itself)");
      }
      // The kernel saw a closed or O_PATH fd, yet it is neither now.
      return ErrnoStatus(err, kCall,
                         "the fd was closed or O_PATH when the kernel looked at it: another "
                         "thread may have closed or reused it since");
    }
    case EINVAL:
      if (!IsBpffs(bpffs_fd)) {
        return ErrnoStatus(err, kCall, "the fd is not on a bpffs: pass the delegated bpffs");
      }
      return ErrnoStatus(err, kCall,
                         "the fd is on a bpffs but is not its root directory, or this kernel "
                         "has no BPF_TOKEN_CREATE (Linux < 6.9)");
    case EPERM:
      if (absl::StatusOr<ProcessCapabilities> caps = ReadProcessCapabilities();
          caps.ok() && !caps->effective.Has(CAP_BPF)) {
        return ErrnoStatus(err, kCall,
                           "this process lacks CAP_BPF in its user namespace; the token is "
                           "created before capabilities are dropped, and CAP_SYS_ADMIN does not "
                           "stand in for CAP_BPF");
      }
      return ErrnoStatus(err, kCall,
                         "the bpffs belongs to another user namespace: it must be created by "
                         "fsopen(\"bpf\") inside this process's own user namespace (a bpffs the "
                         "host mounted never yields a token), or an LSM refused");
    case EOPNOTSUPP:
      return ErrnoStatus(err, kCall,
                         "the caller is in the initial user namespace; tokens exist only for "
                         "processes in a user namespace of their own");
    case ENOENT:
      return ErrnoStatus(err, kCall,
                         "nothing is delegated: all four delegate_* masks of this bpffs are zero");
    default:
      return ErrnoStatus(err, kCall);
  }
}

absl::StatusOr<UniqueFd> CreateToken(int bpffs_fd) {
  // An fd fcntl cannot read goes to the kernel unchanged: its EBADF then says what is wrong.
  const int flags = fcntl(bpffs_fd, F_GETFL);
  UniqueFd root;
  int fd = bpffs_fd;
  if (flags >= 0 && (flags & O_PATH)) {
    absl::StatusOr<UniqueFd> opened = OpenMountRoot(bpffs_fd);
    if (!opened.ok()) return opened.status();
    root = *std::move(opened);
    fd = root.get();
  }
  int token = bpf_token_create(fd, nullptr);
  if (token < 0) return TokenCreateError(errno, fd);
  return UniqueFd(token);
}

absl::StatusOr<DelegationPolicy> ParseTokenFdinfo(absl::string_view fdinfo) {
  DelegationPolicy policy;
  int found = 0;
  for (absl::string_view line : absl::StrSplit(fdinfo, '\n')) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(line, absl::MaxSplits(':', 1));
    DelegateMask* target = kv.first == "allowed_cmds"      ? &policy.cmds
                           : kv.first == "allowed_maps"    ? &policy.maps
                           : kv.first == "allowed_progs"   ? &policy.progs
                           : kv.first == "allowed_attachs" ? &policy.attachs
                                                           : nullptr;
    if (target == nullptr) continue;
    absl::StatusOr<uint64_t> bits = ParseAllowedValue(kv.first, kv.second);
    if (!bits.ok()) return bits.status();
    *target = MaskFromBits(*bits);
    ++found;
  }
  if (found != 4) {
    return absl::DataLossError(absl::StrCat("token fdinfo has ", found,
                                            " of the 4 allowed_* lines: is this fd a BPF token?"));
  }
  return policy;
}

absl::StatusOr<DelegationPolicy> ReadTokenFdinfo(int token_fd) {
  const std::string path = absl::StrCat("/proc/self/fdinfo/", token_fd);
  UniqueFd file(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file.valid()) return ErrnoStatus(errno, absl::StrCat("open(", path, ")"));
  std::string text;
  char chunk[512];
  for (;;) {
    const ssize_t n = read(file.get(), chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, absl::StrCat("read(", path, ")"));
    if (n == 0) break;
    text.append(chunk, static_cast<size_t>(n));
  }
  return ParseTokenFdinfo(text);
}

absl::StatusOr<DelegationPolicy> ReadTokenInfo(int token_fd) {
  TokenInfo info = {};
  uint32_t length = sizeof(info);
  const int result = bpf_obj_get_info_by_fd(token_fd, &info, &length);
  if (result == 0 && length >= sizeof(info)) {
    return DelegationPolicy{MaskFromBits(info.allowed_cmds), MaskFromBits(info.allowed_maps),
                            MaskFromBits(info.allowed_progs), MaskFromBits(info.allowed_attachs)};
  }
  if (result != 0 && errno != EINVAL) {
    return ErrnoStatus(errno, absl::StrCat("BPF_OBJ_GET_INFO_BY_FD(fd ", token_fd, ")"));
  }
  // Linux < 6.17 has no bpf_token_info (EINVAL), and a kernel that filled fewer bytes than the
  // four masks did not fill them all; fdinfo has the same masks on every kernel with tokens.
  return ReadTokenFdinfo(token_fd);
}

}  // namespace tokenbox
