// Applying an image's layers in order to find its disk: only the wanted file (or the files
// directly under disk/) is extracted, and OCI whiteouts (".wh.<name>", ".wh..wh..opq")
// from later layers remove what earlier layers put there. Layers are tar, tar+gzip or
// tar+zstd, read with libarchive from a ByteReader whose bytes are hashed and checked
// against the layer's digest. Private to launcher/.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "images/blob_source.h"

namespace k6t::launcher::images {

class DiskCollector {
 public:
  // `work_dir` receives the extracted files; `path` is the disk's path in the image
  // ("/disk/fedora.qcow2"), empty for "the one file under /disk/".
  DiskCollector(std::string work_dir, const std::string& path);

  // Applies the next layer. `digest` ("sha256:..."), when not empty, must match the bytes
  // read (the whole stream is read even after the last entry).
  absl::Status ApplyLayer(const ByteReader& read, const std::string& digest,
                          const std::string& what);

  // The extracted disk's file in work_dir, or an error saying what the image holds.
  absl::StatusOr<std::string> Result() const;

 private:
  struct Found {
    std::string file;  // in work_dir; empty when the image has a non-file there
    std::string kind;  // "file", "symlink", ...
    size_t layer = 0;
  };
  bool Wanted(const std::string& name) const;
  void Remove(const std::string& prefix, size_t below_layer, bool exact);

  std::string work_dir_;
  std::string path_;  // normalised, no leading '/'
  std::map<std::string, Found> found_;
  size_t layer_ = 0;
  size_t counter_ = 0;
};

}  // namespace k6t::launcher::images
