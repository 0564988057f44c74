// spec.volumes and domain.devices.disks -> the model (volume.h, vmi.h). Private to api/.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "json_reader.h"
#include "k6t/api/vmi.h"
#include "nlohmann/json.hpp"

namespace k6t::api::internal {

// Decodes `spec.volumes` into `volumes` and `domain.devices.disks` into `domain.disks`.
// Disks whose volume has only sources k6t cannot attach are left out of domain.disks (with
// a warning); matching disks to volumes is validation's job (validate_volumes.cc).
void DecodeStorage(JsonReader& r, const nlohmann::json& spec, const std::string& spec_path,
                   Domain& domain, std::vector<Volume>& volumes);

// A Kubernetes quantity at obj[key] ("10Gi", "512M", or a plain number) in bytes; nullopt
// when absent, with an error recorded when it is not a quantity.
std::optional<int64_t> ReadQuantity(JsonReader& r, const nlohmann::json& obj, const char* key,
                                    const std::string& path);

}  // namespace k6t::api::internal
