#ifndef TOKENBOX_NS_RUN_IN_CHILD_H_
#define TOKENBOX_NS_RUN_IN_CHILD_H_

#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace tokenbox {

// Runs `fn` in a forked child and returns the status it produced (code, errno and message).
// For work that must not touch the caller: entering a namespace, dropping privileges, probing.
// A child that dies before reporting is an error; one that does not report within `timeout` is
// killed. The child is always reaped before this returns.
absl::Status RunInChild(const std::function<absl::Status()>& fn,
                        absl::Duration timeout = absl::Seconds(30));

}  // namespace tokenbox

#endif  // TOKENBOX_NS_RUN_IN_CHILD_H_
