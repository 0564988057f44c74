// Where an image's blobs are read from: an OCI image layout directory, or a tar archive
// (OCI archive or docker archive, optionally gzip/zstd compressed) read with libarchive.
// Private to launcher/.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace k6t::launcher::images {

// Reads up to `len` bytes; 0 at the end, -1 on error (errno set).
using ByteReader = std::function<ssize_t(void* buf, size_t len)>;

class BlobSource {
 public:
  virtual ~BlobSource() = default;
  // What the source is, for messages ("OCI layout /var/lib/k6t/images/fedora").
  virtual std::string Describe() const = 0;
  // A small file (JSON) at `path` inside the source, at most `limit` bytes; NotFound when
  // it has none.
  virtual absl::StatusOr<std::string> ReadSmall(const std::string& path, size_t limit) = 0;
  // Calls `consume` with a reader of the file at `path`.
  virtual absl::Status Stream(const std::string& path,
                              const std::function<absl::Status(const ByteReader&)>& consume) = 0;
};

std::unique_ptr<BlobSource> OpenLayoutDir(const std::string& dir);
std::unique_ptr<BlobSource> OpenArchive(const std::string& file);

// "./a//b/" -> "a/b"; empty when the name climbs out ("..") or is too long (4096).
std::string NormalizeEntryName(const std::string& name);

}  // namespace k6t::launcher::images
