#include "ns/errno_status.h"

#include <string.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tokenbox {
namespace {

constexpr absl::string_view kErrnoPayload = "tokenbox/errno";

// What to do about an errno that means the same whatever the call: the system ran out of
// something. Other errnos need the call's own remedy, which its caller gives.
absl::string_view ResourceRemedy(int err) {
  switch (err) {
    case ENOMEM:
    case ENOBUFS:
      return "the system is short of memory: free some, or check the cgroup's memory.max";
    case EAGAIN:
      return "a process or memory limit was reached: check ulimit -u, the cgroup's pids.max "
             "and /proc/sys/kernel/threads-max";
    case EMFILE:
      return "this process has too many open files: raise its limit (ulimit -n)";
    case ENFILE:
      return "the system has too many open files: raise /proc/sys/fs/file-max";
    default:
      return "";
  }
}

}  // namespace

std::string ErrnoName(int err) {
  if (const char* name = strerrorname_np(err)) return name;
  return absl::StrCat("errno ", err);
}

absl::Status ErrnoStatus(int err, absl::string_view call, absl::string_view remedy) {
  std::string message = absl::StrCat(call, ": ", ErrnoName(err), " (", strerror(err), ")");
  if (remedy.empty()) remedy = ResourceRemedy(err);
  if (!remedy.empty()) absl::StrAppend(&message, ": ", remedy);
  return WithErrno(absl::Status(absl::ErrnoToStatusCode(err), message), err);
}

absl::Status WithErrno(absl::Status status, int err) {
  status.SetPayload(kErrnoPayload, absl::Cord(absl::StrCat(err)));
  return status;
}

absl::Status ErrnoUnless(bool ok, absl::string_view call, absl::string_view remedy) {
  return ok ? absl::OkStatus() : ErrnoStatus(errno, call, remedy);
}

int ErrnoOf(const absl::Status& status) {
  auto payload = status.GetPayload(kErrnoPayload);
  int err = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &err)) return 0;
  return err;
}

absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  absl::Status annotated(status.code(), absl::StrCat(context, ": ", status.message()));
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
    annotated.SetPayload(type_url, payload);
  });
  return annotated;
}

absl::Status AppendRemedy(const absl::Status& status, absl::string_view remedy) {
  if (status.ok()) return status;
  absl::Status amended(status.code(), absl::StrCat(status.message(), ": ", remedy));
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
    amended.SetPayload(type_url, payload);
  });
  return amended;
}

std::string Printable(absl::string_view text, size_t max_bytes) {
  std::string shown;
  for (unsigned char c : text.substr(0, max_bytes)) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      shown += static_cast<char>(c);
    } else {
      absl::StrAppend(&shown, "\\x", absl::Hex(c, absl::kZeroPad2));
    }
  }
  if (text.size() > max_bytes) absl::StrAppend(&shown, "... (", text.size(), " bytes)");
  return shown;
}

std::string SerializeStatus(const absl::Status& status) {
  return absl::StrCat(static_cast<int>(status.code()), " ", ErrnoOf(status), " ",
                      status.message());
}

absl::Status DeserializeStatus(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, absl::MaxSplits(' ', 2));
  int code = 0, err = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &code) ||
      !absl::SimpleAtoi(parts[1], &err) || code < 0 || code > 16) {
    return absl::DataLossError(absl::StrCat("malformed status report: '", text, "'"));
  }
  if (code == 0) return absl::OkStatus();
  absl::Status status(static_cast<absl::StatusCode>(code), parts[2]);
  return err != 0 ? WithErrno(std::move(status), err) : status;
}

}  // namespace tokenbox
