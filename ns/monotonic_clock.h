#ifndef TOKENBOX_NS_MONOTONIC_CLOCK_H_
#define TOKENBOX_NS_MONOTONIC_CLOCK_H_

#include "absl/time/time.h"

namespace tokenbox {

// CLOCK_MONOTONIC, as the time since an arbitrary fixed point (boot). Deadlines and step
// timings use it rather than absl::Now() for two reasons: it does not jump when the wall clock
// is set, and it takes no lock. absl::Now() may take a process-wide spinlock, and a child forked
// from a multi-threaded launcher while another thread held that lock would spin forever.
absl::Duration MonotonicNow();

}  // namespace tokenbox

#endif  // TOKENBOX_NS_MONOTONIC_CLOCK_H_
