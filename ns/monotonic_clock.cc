#include "ns/monotonic_clock.h"

#include <time.h>

namespace tokenbox {

absl::Duration MonotonicNow() {
  timespec now;
  // CLOCK_MONOTONIC cannot fail with a valid pointer; it is served by the vDSO without a lock.
  clock_gettime(CLOCK_MONOTONIC, &now);
  return absl::DurationFromTimespec(now);
}

}  // namespace tokenbox
