#ifndef TOKENBOX_NS_PIPE_H_
#define TOKENBOX_NS_PIPE_H_

#include "absl/status/statusor.h"
#include "ns/unique_fd.h"

namespace tokenbox {

// Both ends of one pipe, each owned, so that neither end can leak on an early return.
struct Pipe {
  UniqueFd read_end;
  UniqueFd write_end;
};

// pipe2(O_CLOEXEC): close-on-exec, so that an end never leaks into a program some other thread
// execs meanwhile. A child that wants an end as its stdin/stdout dup2()s it, which clears the flag
// on the copy only.
absl::StatusOr<Pipe> MakePipe();

}  // namespace tokenbox

#endif  // TOKENBOX_NS_PIPE_H_
