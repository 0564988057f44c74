// The VMI's volumes (`spec.volumes`): where each disk's data comes from, as KubeVirt spells
// it. A volume has exactly one source when valid; every source present is kept so that
// validation can name the ones that collide. Sizes are parsed once, at decode, into bytes.
//
// How k6t maps each source without a cluster (the launcher resolves them; see
// launcher/README.md): containerDisk from a local image store or the in-pod mount
// /var/run/kubevirt/container-disks/disk_<N>.img; cloud-init data into an ISO built
// in-process; hostDisk as the local path; persistentVolumeClaim / dataVolume / ephemeral
// as a local path named after the claim; emptyDisk as a sparse file in the VM's state dir.
//
// Plain values: no errors, thread-safe for concurrent reads, no privileges.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace k6t::api {

struct ContainerDiskSource {
  std::string image;              // e.g. quay.io/containerdisks/fedora:40
  std::string path;               // file inside the image; empty = the one file under /disk/
  std::string image_pull_policy;  // Always, IfNotPresent, Never (k6t never pulls)

  bool operator==(const ContainerDiskSource&) const = default;
};

// cloudInitNoCloud and cloudInitConfigDrive carry the same fields.
struct CloudInitSource {
  std::string user_data;
  std::string user_data_base64;
  std::string user_data_secret_ref;  // `secretRef.name`
  std::string network_data;
  std::string network_data_base64;
  std::string network_data_secret_ref;  // `networkDataSecretRef.name`

  bool operator==(const CloudInitSource&) const = default;
};

struct HostDiskSource {
  std::string path;
  std::string type;  // "Disk" (must exist) or "DiskOrCreate"
  std::optional<int64_t> capacity_bytes;
  bool shared = false;

  bool operator==(const HostDiskSource&) const = default;
};

struct ClaimSource {
  std::string claim_name;
  bool read_only = false;
  bool hotpluggable = false;

  bool operator==(const ClaimSource&) const = default;
};

struct EmptyDiskSource {
  int64_t capacity_bytes = 0;

  bool operator==(const EmptyDiskSource&) const = default;
};

// The sources k6t can attach, in the order their keys are listed in KubeVirt's API.
enum class VolumeSourceKind {
  kContainerDisk,
  kCloudInitNoCloud,
  kCloudInitConfigDrive,
  kHostDisk,
  kPersistentVolumeClaim,
  kDataVolume,
  kEmptyDisk,
  kEphemeral,
};

// The spec key of a source ("containerDisk", "cloudInitNoCloud", ...).
const char* VolumeSourceField(VolumeSourceKind k);

struct Volume {
  std::string name;
  std::optional<ContainerDiskSource> container_disk;
  std::optional<CloudInitSource> cloud_init_no_cloud;
  std::optional<CloudInitSource> cloud_init_config_drive;
  std::optional<HostDiskSource> host_disk;
  std::optional<ClaimSource> persistent_volume_claim;
  std::optional<std::string> data_volume;  // `dataVolume.name`
  std::optional<EmptyDiskSource> empty_disk;
  std::optional<ClaimSource> ephemeral;  // `ephemeral.persistentVolumeClaim`
  // KubeVirt sources k6t cannot attach (configMap, secret, serviceAccount, ...), by key.
  std::vector<std::string> unsupported_sources;

  // Every k6t-supported source present, in VolumeSourceKind order.
  std::vector<VolumeSourceKind> Sources() const;
  // The single supported source of a valid volume; nullopt when there is none.
  std::optional<VolumeSourceKind> Source() const;
  // The cloud-init source (NoCloud or ConfigDrive), if this is a cloud-init volume.
  const CloudInitSource* CloudInit() const;

  bool operator==(const Volume&) const = default;
};

}  // namespace k6t::api
