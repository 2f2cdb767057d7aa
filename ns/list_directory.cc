#include "ns/list_directory.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

namespace tokenbox {

std::vector<DirectoryEntry> ListDirectory(int dir_fd) {
  std::vector<DirectoryEntry> entries;
  const int own = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (own < 0) return entries;
  DIR* dir = fdopendir(own);  // Owns `own` from here on.
  if (dir == nullptr) {
    close(own);
    return entries;
  }
  while (dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") entries.push_back({name, entry->d_type});
  }
  closedir(dir);
  return entries;
}

}  // namespace tokenbox
