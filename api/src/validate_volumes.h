// Validation of spec.volumes and domain.devices.disks (validate_volumes.cc). Private to api/.
#pragma once

#include <vector>

#include "k6t/api/errors.h"
#include "k6t/api/vmi.h"

namespace k6t::api::internal {

// Every violated storage rule, each with the full JSON path (from vmi.spec_path).
std::vector<FieldError> ValidateStorage(const Vmi& vmi);

}  // namespace k6t::api::internal
