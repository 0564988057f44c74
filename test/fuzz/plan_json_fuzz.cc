// PlanFromJson on any input (a cache file or a plan an embedder reads): what parses must
// write back to a document that parses to the same plan.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "k6t/binding/plan_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1 << 20)) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto plan = k6t::binding::PlanFromJson(text);
  if (!plan.ok()) return 0;
  const std::string once = k6t::binding::PlanToJson(*plan);
  auto again = k6t::binding::PlanFromJson(once);
  if (!again.ok() || k6t::binding::PlanToJson(*again) != once) std::abort();
  return 0;
}
