#include "decode_volumes.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "net_util.h"

namespace k6t::api::internal {
namespace {

using nlohmann::json;

// KubeVirt volume sources k6t does not attach: decoded as "unsupported", the disk left out.
constexpr std::string_view kUnsupportedSources[] = {
    "sysprep",         "configMap",  "secret",        "serviceAccount",
    "downwardMetrics", "memoryDump", "containerPath", "downwardAPI"};

class StorageDecoder {
 public:
  explicit StorageDecoder(JsonReader& r) : r_(r) {}

  Volume VolumeOf(const json& v, const std::string& p) {
    r_.CheckFields(v, p,
                   {"name", "containerDisk", "cloudInitNoCloud", "cloudInitConfigDrive", "hostDisk",
                    "persistentVolumeClaim", "dataVolume", "emptyDisk", "ephemeral", "sysprep",
                    "configMap", "secret", "serviceAccount", "downwardMetrics", "memoryDump",
                    "containerPath", "downwardAPI"});
    Volume out;
    out.name = r_.String(v, "name", p).value_or("");
    if (const json* cd = r_.Object(v, "containerDisk", p)) {
      const std::string cp = JoinPath(p, "containerDisk");
      r_.CheckFields(*cd, cp, {"image", "path", "imagePullPolicy"}, {"imagePullSecret"});
      out.container_disk = ContainerDiskSource{r_.String(*cd, "image", cp).value_or(""),
                                               r_.String(*cd, "path", cp).value_or(""),
                                               r_.String(*cd, "imagePullPolicy", cp).value_or("")};
    }
    if (const json* c = r_.Object(v, "cloudInitNoCloud", p))
      out.cloud_init_no_cloud = CloudInit(*c, JoinPath(p, "cloudInitNoCloud"));
    if (const json* c = r_.Object(v, "cloudInitConfigDrive", p))
      out.cloud_init_config_drive = CloudInit(*c, JoinPath(p, "cloudInitConfigDrive"));
    if (const json* hd = r_.Object(v, "hostDisk", p)) {
      const std::string hp = JoinPath(p, "hostDisk");
      r_.CheckFields(*hd, hp, {"path", "type", "capacity", "shared"});
      HostDiskSource h;
      h.path = r_.String(*hd, "path", hp).value_or("");
      h.type = r_.String(*hd, "type", hp).value_or("");
      h.capacity_bytes = ReadQuantity(r_, *hd, "capacity", hp);
      h.shared = r_.Bool(*hd, "shared", hp).value_or(false);
      out.host_disk = h;
    }
    if (const json* c = r_.Object(v, "persistentVolumeClaim", p))
      out.persistent_volume_claim = Claim(*c, JoinPath(p, "persistentVolumeClaim"));
    if (const json* dv = r_.Object(v, "dataVolume", p)) {
      const std::string dp = JoinPath(p, "dataVolume");
      r_.CheckFields(*dv, dp, {"name", "hotpluggable"});
      out.data_volume = r_.String(*dv, "name", dp).value_or("");
    }
    if (const json* ed = r_.Object(v, "emptyDisk", p)) {
      const std::string ep = JoinPath(p, "emptyDisk");
      r_.CheckFields(*ed, ep, {"capacity"});
      auto capacity = ReadQuantity(r_, *ed, "capacity", ep);
      if (!capacity && !ed->contains("capacity")) r_.Error(JoinPath(ep, "capacity"), "required");
      out.empty_disk = EmptyDiskSource{capacity.value_or(0)};
    }
    if (const json* e = r_.Object(v, "ephemeral", p)) {
      const std::string ep = JoinPath(p, "ephemeral");
      r_.CheckFields(*e, ep, {"persistentVolumeClaim"});
      const json* c = r_.Object(*e, "persistentVolumeClaim", ep);
      out.ephemeral = c ? Claim(*c, JoinPath(ep, "persistentVolumeClaim")) : ClaimSource{};
    }
    for (std::string_view k : kUnsupportedSources)
      if (v.contains(k)) out.unsupported_sources.emplace_back(k);
    return out;
  }

  Disk DiskOf(const json& x, const std::string& xp, size_t index) {
    r_.CheckFields(
        x, xp, {"name", "disk", "cdrom", "lun", "bootOrder", "serial", "cache", "io", "shareable"},
        {"dedicatedIOThread", "tag", "errorPolicy", "blockSize"});
    Disk disk;
    disk.source_index = static_cast<int64_t>(index);
    disk.name = r_.String(x, "name", xp).value_or("");
    disk.boot_order = r_.Int(x, "bootOrder", xp);
    disk.serial = r_.String(x, "serial", xp).value_or("");
    disk.cache = r_.String(x, "cache", xp).value_or("");
    disk.io = r_.String(x, "io", xp).value_or("");
    disk.shareable = r_.Bool(x, "shareable", xp).value_or(false);
    std::string bus;
    if (const json* d = r_.Object(x, "disk", xp)) {
      const std::string dp = JoinPath(xp, "disk");
      r_.CheckFields(*d, dp, {"bus", "readonly", "pciAddress"});
      disk.devices.push_back(DiskDevice::kDisk);
      bus = r_.String(*d, "bus", dp).value_or("");
      disk.readonly = r_.Bool(*d, "readonly", dp).value_or(false);
      disk.pci_address = r_.String(*d, "pciAddress", dp).value_or("");
    }
    if (const json* c = r_.Object(x, "cdrom", xp)) {
      const std::string cp = JoinPath(xp, "cdrom");
      r_.CheckFields(*c, cp, {"bus", "readonly"}, {"tray"});
      if (disk.devices.empty()) {
        bus = r_.String(*c, "bus", cp).value_or("");
        disk.readonly = r_.Bool(*c, "readonly", cp).value_or(true);
      }
      disk.devices.push_back(DiskDevice::kCdrom);
    }
    if (const json* l = r_.Object(x, "lun", xp)) {
      const std::string lp = JoinPath(xp, "lun");
      r_.CheckFields(*l, lp, {"bus", "readonly"}, {"reservation"});
      if (disk.devices.empty()) {
        bus = r_.String(*l, "bus", lp).value_or("");
        disk.readonly = r_.Bool(*l, "readonly", lp).value_or(false);
      }
      disk.devices.push_back(DiskDevice::kLun);
    }
    if (disk.devices.empty()) disk.devices.push_back(DiskDevice::kDisk);  // KubeVirt's default
    // k6t keeps virtio as a disk's default bus (KubeVirt's amd64 webhook now picks sata);
    // a CD-ROM cannot be virtio on q35, so it defaults to sata as in KubeVirt.
    if (bus.empty()) bus = disk.device() == DiskDevice::kCdrom ? "sata" : "virtio";
    disk.bus = bus;
    return disk;
  }

 private:
  CloudInitSource CloudInit(const json& c, const std::string& p) {
    r_.CheckFields(c, p,
                   {"userData", "userDataBase64", "secretRef", "networkData", "networkDataBase64",
                    "networkDataSecretRef"});
    CloudInitSource out;
    out.user_data = r_.String(c, "userData", p).value_or("");
    out.user_data_base64 = r_.String(c, "userDataBase64", p).value_or("");
    out.network_data = r_.String(c, "networkData", p).value_or("");
    out.network_data_base64 = r_.String(c, "networkDataBase64", p).value_or("");
    out.user_data_secret_ref = SecretName(c, "secretRef", p);
    out.network_data_secret_ref = SecretName(c, "networkDataSecretRef", p);
    return out;
  }

  std::string SecretName(const json& c, const char* key, const std::string& p) {
    const json* ref = r_.Object(c, key, p);
    if (!ref) return "";
    const std::string rp = JoinPath(p, key);
    r_.CheckFields(*ref, rp, {"name"});
    std::string name = r_.String(*ref, "name", rp).value_or("");
    if (name.empty()) r_.Error(JoinPath(rp, "name"), "required");
    return name;
  }

  ClaimSource Claim(const json& c, const std::string& p) {
    r_.CheckFields(c, p, {"claimName", "readOnly", "hotpluggable"});
    return ClaimSource{r_.String(c, "claimName", p).value_or(""),
                       r_.Bool(c, "readOnly", p).value_or(false),
                       r_.Bool(c, "hotpluggable", p).value_or(false)};
  }

  JsonReader& r_;
};

}  // namespace

std::optional<int64_t> ReadQuantity(JsonReader& r, const json& obj, const char* key,
                                    const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  const std::string p = JoinPath(path, key);
  if (it->is_number_integer() && it->get<int64_t>() >= 0) return it->get<int64_t>();
  if (it->is_number_float() && it->get<double>() >= 0 && it->get<double>() < 9.0e18)
    return static_cast<int64_t>(it->get<double>());
  if (!it->is_string()) {
    r.TypeError(p, "a quantity such as \"256Mi\"", *it);
    return std::nullopt;
  }
  auto q = ParseQuantity(it->get<std::string>());
  if (!q.ok()) {
    r.Error(p, std::string(q.status().message()));
    return std::nullopt;
  }
  return *q;
}

void DecodeStorage(JsonReader& r, const json& spec, const std::string& sp, Domain& domain,
                   std::vector<Volume>& volumes) {
  StorageDecoder dec(r);
  std::set<std::string> unattachable;  // volumes with only sources k6t cannot attach
  if (const json* vols = r.Array(spec, "volumes", sp)) {
    const std::string vp = JoinPath(sp, "volumes");
    for (size_t i = 0; i < vols->size(); ++i) {
      const json& v = (*vols)[i];
      const std::string xp = IndexPath(vp, i);
      if (!v.is_object()) {
        r.TypeError(xp, "an object", v);
        continue;
      }
      Volume vol = dec.VolumeOf(v, xp);
      if (!vol.unsupported_sources.empty() && vol.Sources().empty()) {
        r.Warning(xp, absl::StrCat("volume type \"", vol.unsupported_sources.front(),
                                   "\" is not supported by k6t; its disk is left out"));
        unattachable.insert(vol.name);
      }
      volumes.push_back(std::move(vol));
    }
  }
  const json* dev = nullptr;
  if (auto d = spec.find("domain"); d != spec.end() && d->is_object())
    if (auto x = d->find("devices"); x != d->end() && x->is_object()) dev = &*x;
  const std::string dp = JoinPath(sp, "domain.devices");
  const json* disks = dev ? r.Array(*dev, "disks", dp) : nullptr;
  if (!disks) return;
  const std::string kp = JoinPath(dp, "disks");
  for (size_t i = 0; i < disks->size(); ++i) {
    const json& x = (*disks)[i];
    if (!x.is_object()) {
      r.TypeError(IndexPath(kp, i), "an object", x);
      continue;
    }
    Disk disk = dec.DiskOf(x, IndexPath(kp, i), i);
    if (unattachable.count(disk.name)) continue;
    for (const Volume& v : volumes)
      if (v.name == disk.name && v.host_disk) disk.image_path = v.host_disk->path;
    domain.disks.push_back(std::move(disk));
  }
}

}  // namespace k6t::api::internal
