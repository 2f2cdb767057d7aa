#ifndef TOKENBOX_SANDBOX_TOKEN_PROBE_H_
#define TOKENBOX_SANDBOX_TOKEN_PROBE_H_

#include "absl/status/status.h"

namespace tokenbox {

// What the running kernel can tell about BPF token support, each as OK or the reason why not.
// Needs root: the checks configure real (throwaway) bpffs contexts.
struct TokenSupport {
  // A bogus delegate_cmds value is refused with EINVAL. Kernels before 6.9 silently ignore
  // unknown bpffs options, so only a refusal proves that delegation options exist.
  absl::Status delegate_options;
  // Symbolic names ("map_create", "array") resolve through the kernel's BTF.
  absl::Status btf_names;
  // A real token was created in a throwaway user namespace, and reads back what was delegated.
  absl::Status token;
};

TokenSupport ProbeTokenSupport();

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_TOKEN_PROBE_H_
