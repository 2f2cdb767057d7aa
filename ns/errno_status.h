#ifndef TOKENBOX_NS_ERRNO_STATUS_H_
#define TOKENBOX_NS_ERRNO_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tokenbox {

// "EPERM", "ENOENT", ...; "errno 4242" for a number the C library has no name for.
std::string ErrnoName(int err);

// A failed system call as a Status whose message reads
//   "<call>: <ENAME> (<description>)[: <remedy>]"
// for example `fsopen("bpf"): ENODEV (No such device): this kernel has no bpffs`.
// `call` names the syscall and its key argument. Without a remedy, an errno that means the
// system ran out of something (ENOMEM, EAGAIN, EMFILE, ...) gets the remedy for that; any other
// gets none, since only the caller knows it. The errno also travels as a payload, so callers
// and tests can branch on it without parsing text (see ErrnoOf).
absl::Status ErrnoStatus(int err, absl::string_view call, absl::string_view remedy = {});

// OK when `ok`, else ErrnoStatus(errno, call, remedy): for a call tested where it is made, as in
// ErrnoUnless(setsid() >= 0, "setsid"). The order in which arguments are evaluated is not
// fixed, so `call` and `remedy` are literals or text built before: building them may change
// errno.
absl::Status ErrnoUnless(bool ok, absl::string_view call, absl::string_view remedy = {});

// The errno recorded by ErrnoStatus (kept through Annotate), or 0 when there is none.
int ErrnoOf(const absl::Status& status);

// Returns `status` with `context` put in front of its message: "context: message". The code and
// payloads are kept, so the errno still reaches the caller after several layers have annotated.
absl::Status Annotate(const absl::Status& status, absl::string_view context);

// Returns `status` with `remedy` put after its message: "message: remedy". For a layer that
// knows what to do about a failure that a lower one (which did not know) reported. The code and
// payloads are kept.
absl::Status AppendRemedy(const absl::Status& status, absl::string_view remedy);

// Records `err` as the errno of a status built by hand, for a failure whose message is composed
// elsewhere but whose cause is still an errno (for example one that crossed a pipe).
absl::Status WithErrno(absl::Status status, int err);

// `text` made fit for a one-line error message: bytes that are not printable ASCII become \xNN,
// and text longer than `max_bytes` is cut, with its full size noted. User input quoted back in
// an error (a 1 MiB argument, bytes that are not UTF-8) goes through this.
std::string Printable(absl::string_view text, size_t max_bytes = 64);

// A status as one line of text that survives a pipe or a socket, and back: code, errno and
// message are kept; other payloads are not. Used where a child reports to its parent.
std::string SerializeStatus(const absl::Status& status);
absl::Status DeserializeStatus(absl::string_view text);

}  // namespace tokenbox

#endif  // TOKENBOX_NS_ERRNO_STATUS_H_
