#ifndef TOKENBOX_SANDBOX_CHILD_ZYGOTE_H_
#define TOKENBOX_SANDBOX_CHILD_ZYGOTE_H_

#include <functional>

#include "ns/unique_fd.h"
#include "sandbox/child/child_setup.h"
#include "sandbox/sandbox.h"
#include "sandbox/child/setup_reporter.h"

namespace tokenbox {

// A fork server's zygote, in the child that prepared `sandbox`: tells the launcher it is ready,
// then forks one child per launch request on the reporter's socket (sandbox/protocol.h) until
// the launcher closes it. It keeps every capability of its namespaces (each launched child drops
// them itself) and runs no code but this loop. `function` is what a
// Command::Kind::kForkServerFunction launch runs.
[[noreturn]] void ServeLaunches(const Sandbox& sandbox, const std::function<int()>& function,
                                const ChildContext& context, SetupReporter& reporter,
                                UniqueFd token);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_ZYGOTE_H_
