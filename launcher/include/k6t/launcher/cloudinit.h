// Cloud-init data for a VM and the ISO that carries it, built in-process (libisofs):
// NoCloud (volume label `cidata`: meta-data, user-data, network-config) or ConfigDrive
// (label `config-2`: openstack/latest/meta_data.json, user_data, network_data.json), with
// ISO9660 + Rock Ridge + Joliet names, as KubeVirt's virt-launcher writes them.
//
// instance-id: the same across restarts of the same VMI, so cloud-init does not run its
// first-boot modules again. NoCloud uses `spec.domain.firmware.uuid` when given (KubeVirt's
// choice), else the VMI's metadata.uid (k6t derives it from namespace/name when the
// manifest has none, so it is stable as long as the VM keeps its name). ConfigDrive's
// `instance_id` is "<name>.<namespace>" and its `uuid` the NoCloud instance-id, as KubeVirt.
// local-hostname: `spec.hostname`, else the VMI name up to its first dot, cut to 63
// characters (KubeVirt's rule; `subdomain` only names the VM in cluster DNS).
//
// Secrets (`secretRef`, `networkDataSecretRef`) are read from files, first found wins:
//   1. KubeVirt's in-pod layout: <kubevirt_root>/<volume name>/{userdata,userData} and
//      .../{networkdata,networkData} (virt-controller mounts both secrets there);
//   2. k6t without a cluster: <secrets_root>/<secret name>/<key>, one file per key as the
//      kubelet lays out a secret volume, keys userdata/userData and networkdata/networkData.
// Limits: inline data ≤ 2048 bytes each (KubeVirt's admission limit, checked by api's
// validation); a secret key ≤ 1 MiB (Kubernetes' limit on a whole Secret); the ISO holds
// at most these few files.
//
// Errors: InvalidArgument naming the volume's field (spec.volumes[i].cloudInitNoCloud...)
// for bad data or a missing secret; Internal / the errno's code for libisofs and file
// failures, with the path. Thread-safety: every function may run concurrently (libisofs is
// initialised once). Privileges: WriteIso needs CAP_CHOWN to give the ISO to another user.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "k6t/api/vmi.h"

namespace k6t::launcher::cloudinit {

enum class DataSource { kNoCloud, kConfigDrive };

inline constexpr size_t kMaxSecretBytes = 1 << 20;

struct SecretDirs {
  std::string kubevirt_root = "/var/run/kubevirt-private/secret";
  std::string secrets_root = "/var/lib/k6t/secrets";
};

// Everything that goes on the ISO, resolved (base64 decoded, secrets read).
struct CloudInitData {
  DataSource source = DataSource::kNoCloud;
  std::string volume_name;
  std::string field_path;  // e.g. spec.volumes[1].cloudInitNoCloud, for messages
  std::string user_data;
  std::string network_data;
  std::string instance_id;               // NoCloud instance-id; ConfigDrive uuid
  std::string config_drive_instance_id;  // "<name>.<namespace>"
  std::string hostname;

  bool operator==(const CloudInitData&) const = default;
};

// The VMI's cloud-init volume resolved, or nullopt when it has none.
absl::StatusOr<std::optional<CloudInitData>> ReadCloudInitData(const api::Vmi& vmi,
                                                               const SecretDirs& dirs = {});

// KubeVirt's rules for the two meta-data values (see above).
std::string InstanceId(const api::Vmi& vmi);
std::string LocalHostname(const api::Vmi& vmi);

// The meta-data documents: NoCloud `meta-data` (JSON, which cloud-init reads as YAML) and
// ConfigDrive `meta_data.json`. Any byte string is encoded safely (invalid UTF-8 replaced).
std::string NoCloudMetaData(const CloudInitData& data);
std::string ConfigDriveMetaData(const CloudInitData& data);

struct IsoFile {
  std::string path;  // relative, '/'-separated: "meta-data", "openstack/latest/user_data"
  std::string contents;

  bool operator==(const IsoFile&) const = default;
};

// The files of the data source's layout and its volume label ("cidata" / "config-2").
// ConfigDrive network data must be JSON (network_data.json): anything else is an
// InvalidArgument naming `<field_path>.networkData`.
absl::StatusOr<std::vector<IsoFile>> IsoLayout(const CloudInitData& data);
const char* VolumeLabel(DataSource source);

// An ISO9660 image (Rock Ridge and Joliet names, files mode 0444, fixed timestamps so the
// same input gives the same bytes) holding `files`, labelled `volume_id`.
absl::StatusOr<std::string> BuildIso(const std::vector<IsoFile>& files, std::string_view volume_id);

struct FileOwner {
  uid_t uid = 0;
  gid_t gid = 0;
  mode_t mode = 0440;  // QEMU only reads it
};

// IsoLayout + BuildIso written to `path` atomically: a temporary file in the same
// directory, owned by `owner`, fsynced, renamed over `path`; nothing is left on failure.
absl::Status WriteIso(const CloudInitData& data, const std::string& path, const FileOwner& owner);

}  // namespace k6t::launcher::cloudinit
