// k6t-cni's stdin (network configuration with prevResult) on any input: parsing never throws
// or crashes, an error always carries a CNI code, and what parses encodes to a result that
// parses back with the interfaces appended after the previous ones.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cni/cni_config.h"
#include "cni/cni_error.h"
#include "cni/cni_result.h"
#include "nlohmann/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace k6t::handler::cni;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = ParseConfig(text);
  if (!config.ok()) {
    if (CodeOf(config.status()) <= 0) std::abort();
    auto err = nlohmann::json::parse(EncodeError("1.0.0", config.status()), nullptr, false);
    if (!err.is_object() || !err.contains("code")) std::abort();
    return 0;
  }
  (void)PeekVersion(text);
  const PrevResult* prev = config->prev_result ? &*config->prev_result : nullptr;
  const size_t before = prev ? prev->interfaces.size() : 0;
  auto result = nlohmann::json::parse(
      EncodeAddResult(config->cni_version, prev, {{"k6t-x", "", "/run/netns/p"}}), nullptr, false);
  if (!result.is_object() || !result["interfaces"].is_array()) std::abort();
  if (prev && prev->raw.contains("interfaces") && result["interfaces"].size() != before + 1)
    std::abort();
  return 0;
}
