// JSON tree -> Vmi model: the one decoder behind both YAML and JSON input. Private to api/.
#pragma once

#include <string>

#include "json_reader.h"
#include "k6t/api/vmi.h"
#include "nlohmann/json.hpp"

namespace k6t::api::internal {

// Decodes one VirtualMachine or VirtualMachineInstance object found at `path` ("" for a
// top-level document, "items[3]" inside a List). Problems go to `reader`.
Vmi DecodeVmiObject(const nlohmann::json& doc, const std::string& path, JsonReader& reader);

// A stable UUID-formatted id from SHA-256 of "namespace/name" (RFC 9562 version 8 layout).
std::string DeriveUid(const std::string& namespace_, const std::string& name);

}  // namespace k6t::api::internal
