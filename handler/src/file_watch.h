// Noticing that a file was replaced or rewritten, for a long-lived handler that reconciles
// when its VMI or the Multus network-status changes. Watches the files' directories (inotify)
// rather than the files: an atomic update (write a temp file, rename it over) replaces the
// inode, which a watch on the file itself would lose.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace k6t::handler {

class FileWatch {
 public:
  // Fails naming the directory when it cannot be watched (missing, no permission, no inotify
  // instances left).
  static absl::StatusOr<std::unique_ptr<FileWatch>> Open(const std::vector<std::string>& files);
  ~FileWatch();
  FileWatch(const FileWatch&) = delete;
  FileWatch& operator=(const FileWatch&) = delete;

  // Readable (POLLIN) when events are pending; non-blocking.
  int fd() const { return fd_; }
  // Reads every pending event; returns the watched files (as given to Open) that were
  // completely written (closed after writing) or renamed into place since the last call.
  // Other files of the same directories are ignored. An event-queue overflow reports every
  // watched file, since any of them may have changed.
  absl::StatusOr<std::set<std::string>> Changed();

 private:
  struct Watched {
    int wd;
    std::string name;  // base name in the watched directory
    std::string path;  // as given to Open
  };
  FileWatch(int fd, std::vector<Watched> files) : fd_(fd), files_(std::move(files)) {}
  int fd_;
  std::vector<Watched> files_;
};

}  // namespace k6t::handler
