#include "encode_volumes.h"

namespace k6t::api::internal {
namespace {

using nlohmann::json;

json CloudInitJson(const CloudInitSource& c) {
  json o = json::object();
  if (!c.user_data.empty()) o["userData"] = c.user_data;
  if (!c.user_data_base64.empty()) o["userDataBase64"] = c.user_data_base64;
  if (!c.user_data_secret_ref.empty()) o["secretRef"] = {{"name", c.user_data_secret_ref}};
  if (!c.network_data.empty()) o["networkData"] = c.network_data;
  if (!c.network_data_base64.empty()) o["networkDataBase64"] = c.network_data_base64;
  if (!c.network_data_secret_ref.empty())
    o["networkDataSecretRef"] = {{"name", c.network_data_secret_ref}};
  return o;
}

json ClaimJson(const ClaimSource& c) {
  json o = {{"claimName", c.claim_name}};
  if (c.read_only) o["readOnly"] = true;
  if (c.hotpluggable) o["hotpluggable"] = true;
  return o;
}

}  // namespace

json DisksJson(const std::vector<Disk>& disks) {
  json out = json::array();
  for (const Disk& d : disks) {
    json o = {{"name", d.name}};
    for (size_t i = 0; i < d.devices.size(); ++i) {
      json target = json::object();
      if (i == 0) {  // the decoder reads bus and readonly from the first device only
        target["bus"] = d.bus;
        target["readonly"] = d.readonly;
        if (d.devices[i] == DiskDevice::kDisk && !d.pci_address.empty())
          target["pciAddress"] = d.pci_address;
      }
      o[DiskDeviceField(d.devices[i])] = target;
    }
    if (d.boot_order) o["bootOrder"] = *d.boot_order;
    if (!d.serial.empty()) o["serial"] = d.serial;
    if (!d.cache.empty()) o["cache"] = d.cache;
    if (!d.io.empty()) o["io"] = d.io;
    if (d.shareable) o["shareable"] = true;
    out.push_back(o);
  }
  return out;
}

json VolumesJson(const std::vector<Volume>& volumes) {
  json out = json::array();
  for (const Volume& v : volumes) {
    json o = {{"name", v.name}};
    if (const auto& c = v.container_disk) {
      json x = {{"image", c->image}};
      if (!c->path.empty()) x["path"] = c->path;
      if (!c->image_pull_policy.empty()) x["imagePullPolicy"] = c->image_pull_policy;
      o["containerDisk"] = x;
    }
    if (v.cloud_init_no_cloud) o["cloudInitNoCloud"] = CloudInitJson(*v.cloud_init_no_cloud);
    if (v.cloud_init_config_drive)
      o["cloudInitConfigDrive"] = CloudInitJson(*v.cloud_init_config_drive);
    if (const auto& h = v.host_disk) {
      json x = {{"path", h->path}, {"type", h->type}};
      if (h->capacity_bytes) x["capacity"] = std::to_string(*h->capacity_bytes);
      if (h->shared) x["shared"] = true;
      o["hostDisk"] = x;
    }
    if (v.persistent_volume_claim)
      o["persistentVolumeClaim"] = ClaimJson(*v.persistent_volume_claim);
    if (v.data_volume) o["dataVolume"] = {{"name", *v.data_volume}};
    if (v.empty_disk) o["emptyDisk"] = {{"capacity", std::to_string(v.empty_disk->capacity_bytes)}};
    if (v.ephemeral) o["ephemeral"] = {{"persistentVolumeClaim", ClaimJson(*v.ephemeral)}};
    for (const auto& k : v.unsupported_sources) o[k] = json::object();
    out.push_back(o);
  }
  return out;
}

}  // namespace k6t::api::internal
