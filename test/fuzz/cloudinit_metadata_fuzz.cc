// The cloud-init encoders' inputs (launcher/include/k6t/launcher/cloudinit.h): any
// hostname, instance id, user and network data. The meta-data documents must stay JSON
// holding exactly the values given (no injection), and the ISO layout either refuses the
// data naming the field or lists the files with the data unchanged.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "k6t/launcher/cloudinit.h"
#include "nlohmann/json.hpp"

namespace {

// Cuts the input at NUL bytes into up to four fields.
std::string Field(std::string_view& rest) {
  const size_t nul = rest.find('\0');
  std::string out(rest.substr(0, nul));
  rest = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  return out;
}

bool SameAfterReplace(const nlohmann::json& j, const char* key, const std::string& want) {
  // Invalid UTF-8 is replaced when encoding: compare only values that are valid UTF-8.
  const std::string encoded =
      nlohmann::json(want).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return j.at(key).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) == encoded;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using namespace k6t::launcher::cloudinit;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  CloudInitData d;
  d.source = data[0] & 1 ? DataSource::kConfigDrive : DataSource::kNoCloud;
  d.field_path = "spec.volumes[0].cloudInit";
  d.hostname = Field(rest);
  d.instance_id = Field(rest);
  d.config_drive_instance_id = d.instance_id + "." + d.hostname;
  d.user_data = Field(rest);
  d.network_data = std::string(rest);

  const auto no_cloud = nlohmann::json::parse(NoCloudMetaData(d));
  if (!SameAfterReplace(no_cloud, "instance-id", d.instance_id)) abort();
  if (!d.hostname.empty() && !SameAfterReplace(no_cloud, "local-hostname", d.hostname)) abort();
  const auto config_drive = nlohmann::json::parse(ConfigDriveMetaData(d));
  if (!SameAfterReplace(config_drive, "uuid", d.instance_id)) abort();

  auto files = IsoLayout(d);
  if (!files.ok()) {
    if (d.source != DataSource::kConfigDrive) abort();  // only network_data.json can be refused
    return 0;
  }
  for (const IsoFile& f : *files) {
    if (f.path.find("user") != std::string::npos && f.contents != d.user_data) abort();
    if (f.path.find("network") != std::string::npos && f.contents != d.network_data) abort();
  }
  return 0;
}
