#include "tools/json.h"

#include "tests/test_support.h"

namespace tokenbox {
namespace {

TEST_CASE("JsonString escapes quotes, backslashes, control and non-ASCII bytes") {
  CHECK(JsonString("plain") == "\"plain\"");
  CHECK(JsonString("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(JsonString("line\nnext\ttab") == "\"line\\nnext\\ttab\"");
  CHECK(JsonString(std::string("\x01\xff", 2)) == "\"\\u0001\\u00ff\"");
}

}  // namespace
}  // namespace tokenbox
