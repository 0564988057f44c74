// Finding an image reference among the OCI layouts and archives of an image store dir,
// down to its layers. Private to launcher/.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "images/blob_source.h"
#include "k6t/api/image_ref.h"

namespace k6t::launcher::images {

struct LocatedImage {
  std::unique_ptr<BlobSource> source;
  std::string digest;  // manifest digest (OCI) or config digest (docker archive)
  struct Layer {
    std::string path;    // inside the source
    std::string digest;  // checked while reading; empty when the source names none
  };
  std::vector<Layer> layers;
};

// NotFound lists what the store holds.
absl::StatusOr<LocatedImage> LocateImage(const std::string& store_dir,
                                         const api::ImageReference& ref);

}  // namespace k6t::launcher::images
