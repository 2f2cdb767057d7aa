#ifndef TOKENBOX_TESTS_BPF_OPS_H_
#define TOKENBOX_TESTS_BPF_OPS_H_

#include <linux/bpf.h>

#include "absl/status/statusor.h"
#include "ns/unique_fd.h"

namespace tokenbox::testing {

// The smallest real BPF operations, each through the token when `token_fd` >= 0
// (BPF_F_TOKEN_FD set, as libbpf's low-level calls do not do on their own).
inline constexpr int kNoToken = -1;

// A map of `type` with 4-byte keys and 8-byte values (8-byte keys for LPM tries are not used).
absl::StatusOr<UniqueFd> CreateMap(bpf_map_type type, int token_fd);

// "r0 = `ret`; exit" as a program of `type` with `attach` as its expected attach type.
absl::StatusOr<UniqueFd> LoadTrivialProgram(bpf_prog_type type, bpf_attach_type attach,
                                            int token_fd, int ret = 0);

// A BTF blob with a single 32-bit int type.
absl::StatusOr<UniqueFd> LoadTinyBtf(int token_fd);

}  // namespace tokenbox::testing

#endif  // TOKENBOX_TESTS_BPF_OPS_H_
