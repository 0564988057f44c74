#include "disks/qcow2_overlay.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "disks/file_ops.h"

namespace k6t::launcher::disks {
namespace {

constexpr uint32_t kClusterBits = 16;
constexpr uint64_t kClusterSize = uint64_t{1} << kClusterBits;
constexpr uint32_t kRefcountOrder = 4;   // 16-bit refcounts
constexpr uint32_t kHeaderLength = 104;  // version 3's fixed header
constexpr uint32_t kBackingFormatExtension = 0xe2792aca;
constexpr size_t kMaxBackingName = 1023;  // QEMU refuses longer names
// Cluster 0 the header, 1 the refcount table, 2 its one refcount block, 3... the L1 table.
constexpr uint64_t kRefcountTableOffset = 1 * kClusterSize;
constexpr uint64_t kRefcountBlockOffset = 2 * kClusterSize;
constexpr uint64_t kL1Offset = 3 * kClusterSize;

void PutBe(std::string& image, uint64_t offset, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i, value >>= 8)
    image[offset + static_cast<uint64_t>(i)] = static_cast<char>(value & 0xff);
}

uint64_t DivRoundUp(uint64_t n, uint64_t d) { return (n + d - 1) / d; }

}  // namespace

absl::Status WriteQcow2Overlay(const std::string& path, const std::string& backing_file,
                               const std::string& backing_format, uint64_t virtual_size, uid_t uid,
                               gid_t gid) {
  if (virtual_size == 0)
    return absl::InvalidArgumentError(absl::StrCat(path, ": the backing image is empty"));
  if (backing_file.empty() || backing_file.size() > kMaxBackingName)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the backing file name must be 1..", kMaxBackingName, " bytes"));
  if (backing_format.empty() || backing_format.size() > 16)
    return absl::InvalidArgumentError(absl::StrCat(path, ": bad backing format"));

  // One L1 entry per L2 table; one L2 table maps cluster_size / 8 clusters.
  const uint64_t l1_entries = DivRoundUp(virtual_size, kClusterSize * (kClusterSize / 8));
  const uint64_t l1_bytes = l1_entries * 8;
  const uint64_t clusters = 3 + DivRoundUp(l1_bytes, kClusterSize);
  // 16-bit refcounts: one block covers cluster_size / 2 clusters (2 GiB of metadata here).
  if (clusters > kClusterSize / 2 || l1_entries > UINT32_MAX)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": virtual size ", virtual_size, " is too large for an overlay"));
  std::string image(kL1Offset + l1_bytes, '\0');

  image.replace(0, 4, "QFI\xfb", 4);
  PutBe(image, 4, 3, 4);  // version
  PutBe(image, 20, kClusterBits, 4);
  PutBe(image, 24, virtual_size, 8);
  PutBe(image, 36, l1_entries, 4);
  PutBe(image, 40, kL1Offset, 8);
  PutBe(image, 48, kRefcountTableOffset, 8);
  PutBe(image, 56, 1, 4);  // refcount table clusters
  PutBe(image, 96, kRefcountOrder, 4);
  PutBe(image, 100, kHeaderLength, 4);

  // Header extensions: the backing format, then the end marker; each padded to 8 bytes.
  uint64_t at = kHeaderLength;
  PutBe(image, at, kBackingFormatExtension, 4);
  PutBe(image, at + 4, backing_format.size(), 4);
  image.replace(at + 8, backing_format.size(), backing_format);
  at += 8 + DivRoundUp(backing_format.size(), 8) * 8;
  at += 8;  // type 0, length 0: the end of the extensions
  if (at + backing_file.size() > kClusterSize)
    return absl::InvalidArgumentError(absl::StrCat(path, ": the backing file name is too long"));
  PutBe(image, 8, at, 8);
  PutBe(image, 16, backing_file.size(), 4);
  image.replace(at, backing_file.size(), backing_file);

  PutBe(image, kRefcountTableOffset, kRefcountBlockOffset, 8);
  for (uint64_t c = 0; c < clusters; ++c) PutBe(image, kRefcountBlockOffset + 2 * c, 1, 2);
  // The L1 table stays zero: no cluster is allocated, every read goes to the backing file.
  return storage::WriteFileDurably(path, image, uid, gid, 0660);
}

}  // namespace k6t::launcher::disks
