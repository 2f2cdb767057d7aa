#ifndef TOKENBOX_NS_PRIVILEGE_H_
#define TOKENBOX_NS_PRIVILEGE_H_

#include <string>

namespace tokenbox {

// Whether the caller lives in the initial user namespace (its uid_map is the identity map over
// all ids). Inside a container or Bazel's linux-sandbox it does not, and then no capability it
// holds counts for what only the host may do, such as configuring a delegated bpffs.
bool InInitialUserNamespace();

// Whether `cap` (CAP_SYS_ADMIN is 21) is in the caller's effective set.
bool HasEffectiveCapability(int cap);

// Empty when the caller can configure a delegated bpffs: CAP_SYS_ADMIN, effective, in the initial
// user namespace. Otherwise a sentence saying what is lacking.
std::string WhyCannotDelegate();

}  // namespace tokenbox

#endif  // TOKENBOX_NS_PRIVILEGE_H_
