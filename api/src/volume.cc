#include "k6t/api/volume.h"

#include "k6t/api/vmi.h"

namespace k6t::api {

const char* VolumeSourceField(VolumeSourceKind k) {
  switch (k) {
    case VolumeSourceKind::kContainerDisk:
      return "containerDisk";
    case VolumeSourceKind::kCloudInitNoCloud:
      return "cloudInitNoCloud";
    case VolumeSourceKind::kCloudInitConfigDrive:
      return "cloudInitConfigDrive";
    case VolumeSourceKind::kHostDisk:
      return "hostDisk";
    case VolumeSourceKind::kPersistentVolumeClaim:
      return "persistentVolumeClaim";
    case VolumeSourceKind::kDataVolume:
      return "dataVolume";
    case VolumeSourceKind::kEmptyDisk:
      return "emptyDisk";
    case VolumeSourceKind::kEphemeral:
      return "ephemeral";
  }
  return "unknown";
}

const char* DiskDeviceField(DiskDevice d) {
  switch (d) {
    case DiskDevice::kDisk:
      return "disk";
    case DiskDevice::kCdrom:
      return "cdrom";
    case DiskDevice::kLun:
      return "lun";
  }
  return "disk";
}

std::vector<VolumeSourceKind> Volume::Sources() const {
  std::vector<VolumeSourceKind> out;
  if (container_disk) out.push_back(VolumeSourceKind::kContainerDisk);
  if (cloud_init_no_cloud) out.push_back(VolumeSourceKind::kCloudInitNoCloud);
  if (cloud_init_config_drive) out.push_back(VolumeSourceKind::kCloudInitConfigDrive);
  if (host_disk) out.push_back(VolumeSourceKind::kHostDisk);
  if (persistent_volume_claim) out.push_back(VolumeSourceKind::kPersistentVolumeClaim);
  if (data_volume) out.push_back(VolumeSourceKind::kDataVolume);
  if (empty_disk) out.push_back(VolumeSourceKind::kEmptyDisk);
  if (ephemeral) out.push_back(VolumeSourceKind::kEphemeral);
  return out;
}

std::optional<VolumeSourceKind> Volume::Source() const {
  auto all = Sources();
  if (all.empty()) return std::nullopt;
  return all.front();
}

const CloudInitSource* Volume::CloudInit() const {
  if (cloud_init_no_cloud) return &*cloud_init_no_cloud;
  if (cloud_init_config_drive) return &*cloud_init_config_drive;
  return nullptr;
}

}  // namespace k6t::api
