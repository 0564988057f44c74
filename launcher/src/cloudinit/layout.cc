// The meta-data encoders and the file layout of each data source.
#include "absl/strings/str_cat.h"
#include "k6t/launcher/cloudinit.h"
#include "nlohmann/json.hpp"

namespace k6t::launcher::cloudinit {
namespace {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(2, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::string NoCloudMetaData(const CloudInitData& d) {
  json m = {{"instance-id", d.instance_id}};
  if (!d.hostname.empty()) m["local-hostname"] = d.hostname;
  return Dump(m) + "\n";
}

std::string ConfigDriveMetaData(const CloudInitData& d) {
  json m = {{"instance_id", d.config_drive_instance_id}, {"uuid", d.instance_id}};
  if (!d.hostname.empty()) {
    m["hostname"] = d.hostname;
    m["name"] = d.hostname;
  }
  return Dump(m) + "\n";
}

const char* VolumeLabel(DataSource source) {
  return source == DataSource::kNoCloud ? "cidata" : "config-2";
}

absl::StatusOr<std::vector<IsoFile>> IsoLayout(const CloudInitData& d) {
  std::vector<IsoFile> files;
  if (d.source == DataSource::kNoCloud) {
    files.push_back({"meta-data", NoCloudMetaData(d)});
    // cloud-init's NoCloud source needs user-data to exist, even empty.
    files.push_back({"user-data", d.user_data});
    if (!d.network_data.empty()) files.push_back({"network-config", d.network_data});
    return files;
  }
  // OpenStack's network_data.json is JSON only; YAML here would be ignored by the guest.
  if (!d.network_data.empty() && !json::accept(d.network_data))
    return absl::InvalidArgumentError(
        absl::StrCat(d.field_path,
                     ".networkData: a config drive's network_data.json must be JSON (OpenStack "
                     "network data format)"));
  files.push_back({"openstack/latest/meta_data.json", ConfigDriveMetaData(d)});
  if (!d.user_data.empty()) files.push_back({"openstack/latest/user_data", d.user_data});
  if (!d.network_data.empty())
    files.push_back({"openstack/latest/network_data.json", d.network_data});
  return files;
}

}  // namespace k6t::launcher::cloudinit
