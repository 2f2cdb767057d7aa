#ifndef TOKENBOX_TESTS_DELEGATED_CHILD_H_
#define TOKENBOX_TESTS_DELEGATED_CHILD_H_

#include <functional>

#include "absl/status/status.h"
#include "token/delegation_policy.h"

namespace tokenbox::testing {

// Runs `fn` in a forked child set up as the sandbox sets up its children, without the
// capability drop and exec: a new user namespace (inner root = host nobody), a new private mount
// namespace, and a bpffs delegated with `policy` by this privileged process. `fn` receives the
// detached bpffs mount fd. For token tests that must control each step themselves.
absl::Status RunWithDelegatedBpffs(const DelegationPolicy& policy,
                                   const std::function<absl::Status(int bpffs_fd)>& fn);

}  // namespace tokenbox::testing

#endif  // TOKENBOX_TESTS_DELEGATED_CHILD_H_
