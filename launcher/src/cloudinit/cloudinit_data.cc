// Resolving a VMI's cloud-init volume: inline or base64 data, or secrets read from files.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "disks/file_ops.h"
#include "k6t/launcher/cloudinit.h"

namespace k6t::launcher::cloudinit {
namespace {

// Reads a secret key file of at most kMaxSecretBytes; NotFound when absent.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  // Symlinks are followed: a kubelet's secret volume links each key into ..data/.
  const int rfd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (rfd < 0) return storage::ErrnoError(errno, "open", path);
  struct stat st {};
  if (fstat(rfd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(rfd);
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a regular file"));
  }
  if (static_cast<size_t>(st.st_size) > kMaxSecretBytes) {
    close(rfd);
    return absl::ResourceExhaustedError(absl::StrCat(
        path, " is ", st.st_size, " bytes; a secret key holds at most ", kMaxSecretBytes));
  }
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t off = 0;
  while (off < out.size()) {
    const ssize_t n = read(rfd, out.data() + off, out.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  close(rfd);
  out.resize(off);
  return out;
}

// The first of `keys` found in the volume's KubeVirt directory, then in the secret's own.
absl::StatusOr<std::string> ReadSecret(const SecretDirs& dirs, const std::string& volume,
                                       const std::string& secret,
                                       std::initializer_list<const char*> keys,
                                       const std::string& field) {
  std::vector<std::string> tried;
  for (const std::string& dir : {absl::StrCat(dirs.kubevirt_root, "/", volume),
                                 absl::StrCat(dirs.secrets_root, "/", secret)}) {
    for (const char* key : keys) {
      const std::string path = absl::StrCat(dir, "/", key);
      auto data = ReadSecretFile(path);
      if (data.ok()) return data;
      if (!absl::IsNotFound(data.status()))
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": secret \"", secret, "\": ", data.status().message()));
      tried.push_back(path);
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      field, ": secret \"", secret, "\" not found (looked for ", absl::StrJoin(tried, ", "), ")"));
}

absl::StatusOr<std::string> Resolve(const std::string& plain, const std::string& b64,
                                    const std::string& secret, const SecretDirs& dirs,
                                    const std::string& volume, const std::string& path,
                                    const char* field, std::initializer_list<const char*> keys,
                                    const char* secret_field) {
  if (!plain.empty()) return plain;
  if (!b64.empty()) {
    std::string out;
    if (!absl::Base64Unescape(b64, &out))
      return absl::InvalidArgumentError(absl::StrCat(path, ".", field, "Base64: not valid base64"));
    return out;
  }
  if (!secret.empty())
    return ReadSecret(dirs, volume, secret, keys, absl::StrCat(path, ".", secret_field));
  return std::string();
}

}  // namespace

std::string InstanceId(const api::Vmi& vmi) {
  return vmi.spec.domain.firmware_uuid.empty() ? vmi.meta.uid : vmi.spec.domain.firmware_uuid;
}

std::string LocalHostname(const api::Vmi& vmi) {
  if (!vmi.spec.hostname.empty()) return vmi.spec.hostname;
  return vmi.meta.name.substr(0, std::min<size_t>(vmi.meta.name.find('.'), 63));
}

absl::StatusOr<std::optional<CloudInitData>> ReadCloudInitData(const api::Vmi& vmi,
                                                               const SecretDirs& dirs) {
  const std::string sp = vmi.spec_path.empty() ? "spec" : vmi.spec_path;
  for (size_t i = 0; i < vmi.spec.volumes.size(); ++i) {
    const api::Volume& v = vmi.spec.volumes[i];
    const api::CloudInitSource* src = v.CloudInit();
    if (!src) continue;
    CloudInitData d;
    d.source = v.cloud_init_no_cloud ? DataSource::kNoCloud : DataSource::kConfigDrive;
    d.volume_name = v.name;
    d.field_path =
        absl::StrCat(sp, ".volumes[", i, "].",
                     v.cloud_init_no_cloud ? "cloudInitNoCloud" : "cloudInitConfigDrive");
    auto user = Resolve(src->user_data, src->user_data_base64, src->user_data_secret_ref, dirs,
                        v.name, d.field_path, "userData", {"userdata", "userData"}, "secretRef");
    if (!user.ok()) return user.status();
    auto net = Resolve(src->network_data, src->network_data_base64, src->network_data_secret_ref,
                       dirs, v.name, d.field_path, "networkData", {"networkdata", "networkData"},
                       "networkDataSecretRef");
    if (!net.ok()) return net.status();
    if (user->empty() && net->empty())
      return absl::InvalidArgumentError(
          absl::StrCat(d.field_path, ": neither user data nor network data"));
    d.user_data = std::move(*user);
    d.network_data = std::move(*net);
    d.instance_id = InstanceId(vmi);
    d.config_drive_instance_id = absl::StrCat(vmi.meta.name, ".", vmi.meta.namespace_);
    d.hostname = LocalHostname(vmi);
    return d;
  }
  return std::nullopt;
}

}  // namespace k6t::launcher::cloudinit
