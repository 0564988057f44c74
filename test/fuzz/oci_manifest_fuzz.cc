// Image index / manifest / docker manifest.json parsing (launcher/src/images/oci_manifest.h):
// any bytes, bounded, never a crash; whatever parses keeps its bounds and valid digests.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "images/oci_manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace k6t::launcher::images;
  if (auto doc = ParseImageDocument(text); doc.ok()) {
    if (doc->manifests.size() > kMaxDescriptors || doc->layers.size() > kMaxLayers) abort();
    for (const auto& d : doc->manifests)
      if (!BlobPath(d.digest).ok()) abort();
    for (const auto& d : doc->layers)
      if (!BlobPath(d.digest).ok() || !IsSupportedLayerType(d.media_type)) abort();
    if (doc->is_index) (void)PickAmd64(doc->manifests);
  }
  if (auto images = ParseDockerArchiveManifest(text); images.ok())
    for (const auto& img : *images)
      if (img.layers.size() > kMaxLayers) abort();
  return 0;
}
