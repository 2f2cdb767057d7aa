#ifndef TOKENBOX_TOOLS_HOST_PROBE_H_
#define TOKENBOX_TOOLS_HOST_PROBE_H_

#include <string>
#include <vector>

namespace tokenbox {

// One thing the launcher needs from this machine, as `tokenbox probe` reports it.
struct ProbeCheck {
  std::string name;    // "kernel", "user namespaces", ...
  bool ok = false;
  std::string detail;  // What was found.
  std::string remedy;  // What to do about it; empty when ok.
  bool tested = true;  // False when this caller could not check it (not ok, but not missing).
};

// Everything `tokenbox probe` checks, in report order. It creates throwaway namespaces in forked
// children, so it runs real checks, not guesses from version numbers; it never changes the host.
std::vector<ProbeCheck> ProbeHost();

// Parses "6.18.44-fc" into {6, 18}; false when the text does not start with two numbers.
bool ParseKernelRelease(const std::string& release, int* major, int* minor);

}  // namespace tokenbox

#endif  // TOKENBOX_TOOLS_HOST_PROBE_H_
