// The JSON documents of OCI image layouts and docker archives, parsed with bounds: an
// image index (or Docker manifest list), an image manifest, and a docker archive's
// manifest.json. Private to launcher/ (the fuzz target reaches it through launcher/src).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace k6t::launcher::images {

inline constexpr size_t kMaxJsonBytes = 4 << 20;  // index, manifest, config, manifest.json
inline constexpr size_t kMaxDescriptors = 1024;   // manifests in an index
inline constexpr size_t kMaxLayers = 128;

struct Descriptor {
  std::string media_type;
  std::string digest;  // "sha256:<64 lowercase hex>", checked
  int64_t size = -1;
  std::string os, architecture, variant;  // platform, when an index gives one
  std::map<std::string, std::string> annotations;
};

// An index lists manifests (or nested indexes); a manifest lists layers.
struct ImageDocument {
  bool is_index = false;
  std::vector<Descriptor> manifests;  // index
  Descriptor config;                  // manifest
  std::vector<Descriptor> layers;     // manifest
};

// Parses either kind (told apart by mediaType, else by which list is present).
absl::StatusOr<ImageDocument> ParseImageDocument(std::string_view json);

// The descriptor to use from an index: linux/amd64 (or one without platform), else an
// error listing the platforms it has.
absl::StatusOr<Descriptor> PickAmd64(const std::vector<Descriptor>& manifests);

// One image of a docker archive (`docker save` / `podman save`): its tags and layer paths
// inside the archive.
struct DockerArchiveImage {
  std::string config;
  std::vector<std::string> repo_tags;
  std::vector<std::string> layers;
};
absl::StatusOr<std::vector<DockerArchiveImage>> ParseDockerArchiveManifest(std::string_view json);

// "sha256:<hex>" -> "blobs/sha256/<hex>" (the digest is checked first).
absl::StatusOr<std::string> BlobPath(const std::string& digest);

// Layer media types this reader takes: tar, tar+gzip, tar+zstd, in their OCI and Docker
// spellings; anything else (e.g. encrypted layers) is refused by name.
bool IsSupportedLayerType(const std::string& media_type);

}  // namespace k6t::launcher::images
