// containerDisk images resolved without a registry, the way KubeVirt users name them.
//
// Resolve() looks, in order:
//  1. KubeVirt's in-pod convention: the runtime already put the disk of volume N at
//     <container_disks_dir>/disk_<N>.img (the default dir is
//     /var/run/kubevirt/container-disks), or mounted the image's filesystem at
//     <container_disks_dir>/disk_<N>/, where containerDisk.path (default: the one file
//     under /disk/) is looked up;
//  2. the image store (`--image-store DIR`, default /var/lib/k6t/images): OCI image layout
//     directories and OCI or docker archives (.tar, .tar.gz, .tar.zst). A layout's
//     index.json entry matches by its `io.containerd.image.name` or
//     `org.opencontainers.image.ref.name` annotation (a full reference, or a bare tag when
//     the layout or archive is named after the repository's last component, as
//     `skopeo copy ... oci:DIR/fedora:40` writes it); a docker archive by its RepoTags; a
//     digest reference by the manifest digest. An index picks linux/amd64.
// The disk is extracted once per (manifest digest, path) into <cache_dir>/<key>/disk.img
// (default cache: <store>/.extracted), read-only (0444 in a 0555 dir, owned by the QEMU
// user) and shared by every VM on the machine. Extraction is atomic: a temporary dir is
// filled, fsynced and renamed into place under an flock'ed lock file per key, so a
// half-extracted disk is never used, concurrent resolvers of one image extract it once,
// and a crashed extraction's leftovers are removed by the next one.
// Layers: tar, tar+gzip, tar+zstd, each checked against its digest; whiteouts honoured.
// Bounds: 4 MiB per JSON document, 128 layers, 1024 index entries, 4096-byte entry names.
//
// Errors name the volume: "spec.volumes[1].containerDisk.image: quay.io/x/y:1 not found in
// the image store /var/lib/k6t/images (OCI layouts and archives there: ...)"; NotFound,
// InvalidArgument (bad image or path), DataLoss (corrupt layer), or the errno's code.
// Thread-safety: one ImageStore may be used from many threads and processes at once.
// Privileges: writing the cache (and chown to the QEMU user) needs its directory's owner
// or CAP_CHOWN/CAP_DAC_OVERRIDE; reading the store needs read access only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "k6t/api/vmi.h"

namespace k6t::launcher::images {

struct ImageStoreOptions {
  std::string store_dir = "/var/lib/k6t/images";
  std::string cache_dir;  // empty: <store_dir>/.extracted
  std::string container_disks_dir = "/var/run/kubevirt/container-disks";
  uid_t owner_uid = 107;  // the QEMU user reads the extracted disks
  gid_t owner_gid = 107;
};

struct ResolvedDisk {
  std::string path;        // a read-only base image on this machine
  std::string format;      // "qcow2" or "raw", from the file's first bytes
  std::string digest;      // manifest (or docker config) digest; empty for in-pod disks
  bool extracted = false;  // this call extracted it (false: in-pod or already cached)
};

// "qcow2" when `path` starts with QCOW2's magic, else "raw"; an error if unreadable.
absl::StatusOr<std::string> DetectImageFormat(const std::string& path);

// The size of the disk a guest sees: a qcow2 header's virtual size, else the file's (or
// block device's) byte length. An error if unreadable or a truncated qcow2 header.
absl::StatusOr<uint64_t> ImageVirtualSize(const std::string& path);

class ImageStore {
 public:
  explicit ImageStore(ImageStoreOptions options);

  // The disk of spec.volumes[volume_index], which must be a containerDisk volume.
  absl::StatusOr<ResolvedDisk> Resolve(const api::Vmi& vmi, size_t volume_index) const;

  const ImageStoreOptions& options() const { return options_; }

 private:
  ImageStoreOptions options_;
};

}  // namespace k6t::launcher::images
