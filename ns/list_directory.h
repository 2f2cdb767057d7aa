#ifndef TOKENBOX_NS_LIST_DIRECTORY_H_
#define TOKENBOX_NS_LIST_DIRECTORY_H_

#include <string>
#include <vector>

namespace tokenbox {

struct DirectoryEntry {
  std::string name;
  unsigned char type;  // DT_REG, DT_DIR, ... as readdir() gives it.
};

// The entries of the directory `dir_fd` names, without "." and "..", read through a descriptor
// of its own (so `dir_fd`'s offset is untouched); empty when it cannot be read.
std::vector<DirectoryEntry> ListDirectory(int dir_fd);

}  // namespace tokenbox

#endif  // TOKENBOX_NS_LIST_DIRECTORY_H_
