// Disks and volumes -> canonical KubeVirt JSON (the inverse of decode_volumes.cc). Private.
#pragma once

#include <vector>

#include "k6t/api/vmi.h"
#include "nlohmann/json.hpp"

namespace k6t::api::internal {

nlohmann::json DisksJson(const std::vector<Disk>& disks);
nlohmann::json VolumesJson(const std::vector<Volume>& volumes);

}  // namespace k6t::api::internal
