// Image reference parsing (k6t/api/image_ref.h) on any bytes: never a crash, and whatever
// parses is normalised for good: its canonical spelling parses back to the same reference
// (the image store looks images up by that spelling).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "k6t/api/image_ref.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto ref = k6t::api::ParseImageReference(text);
  if (!ref.ok()) return 0;
  if (ref->domain.empty() || ref->repository.empty() || (ref->tag.empty() && ref->digest.empty()))
    std::abort();
  auto again = k6t::api::ParseImageReference(ref->Canonical());
  if (!again.ok() || *again != *ref) std::abort();
  return 0;
}
