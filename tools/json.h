#ifndef TOKENBOX_TOOLS_JSON_H_
#define TOKENBOX_TOOLS_JSON_H_

#include <string>

#include "absl/strings/string_view.h"

namespace tokenbox {

// `text` as a JSON string literal, quotes included. Bytes that are not printable ASCII are
// escaped as \u00XX, so the output stays valid whatever the kernel or the user put in.
std::string JsonString(absl::string_view text);

}  // namespace tokenbox

#endif  // TOKENBOX_TOOLS_JSON_H_
