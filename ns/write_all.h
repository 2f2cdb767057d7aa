#ifndef TOKENBOX_NS_WRITE_ALL_H_
#define TOKENBOX_NS_WRITE_ALL_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tokenbox {

// Writes all of `data` to the blocking fd `fd`, however many write() calls that takes, retrying
// those a signal interrupts. `what` names the fd in the error ("write(<what>)").
absl::Status WriteAll(int fd, absl::string_view data, absl::string_view what);

}  // namespace tokenbox

#endif  // TOKENBOX_NS_WRITE_ALL_H_
