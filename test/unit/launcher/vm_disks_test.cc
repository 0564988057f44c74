// The files behind a VM's disks: per-VM ephemeral overlays over links to the base, sparse
// empty disks, hostDisk DiskOrCreate, and where a claim's image is. (Two real VMs on one
// base: test/e2e/ephemeral_disk_e2e_test.cc.)
#include "k6t/launcher/vm_disks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "test/support/shell.h"

namespace k6t::launcher::disks {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

class VmDisksTest : public ::testing::Test {
 protected:
  VmDisksTest() : dir_(testsupport::TempDir()) {}
  ~VmDisksTest() override { testsupport::Sh("rm -rf " + dir_); }
  Owner Me() const { return Owner{getuid(), getgid()}; }
  std::string dir_;
};

TEST_F(VmDisksTest, EphemeralOverlayOverALinkToTheBaseAndBothRemoved) {
  ASSERT_TRUE(CreateEmptyDisk(dir_ + "/base.img", 3 << 20, Me()).ok());
  std::ofstream(dir_ + "/root.qcow2") << "left by an earlier start";
  auto d = PrepareEphemeral(dir_, "root", dir_ + "/base.img", "raw", Me());
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->base_link, dir_ + "/root.base");
  EXPECT_EQ(d->overlay, dir_ + "/root.qcow2");
  EXPECT_EQ(d->base_format, "raw");
  EXPECT_EQ(fs::read_symlink(d->base_link), dir_ + "/base.img");
  // QEMU's own tools read the overlay as new, over the link, of the base's size.
  const std::string info = testsupport::ShOk("qemu-img info --output=json " + d->overlay);
  EXPECT_THAT(info, HasSubstr("\"virtual-size\": 3145728"));
  EXPECT_THAT(info, HasSubstr("\"backing-filename\": \"" + d->base_link + "\""));
  EXPECT_THAT(info, HasSubstr("\"backing-filename-format\": \"raw\""));
  EXPECT_EQ(EphemeralDiskPaths(dir_, "root").overlay, d->overlay);
  EXPECT_THAT(testsupport::ShOk("qemu-img check " + d->overlay), HasSubstr("No errors"));
  // Writes land in the overlay; unwritten blocks read the base.
  testsupport::ShOk("qemu-io -f qcow2 -c 'write -P 0x5a 1M 64k' " + d->overlay);
  EXPECT_THAT(testsupport::ShOk("qemu-io -f qcow2 -c 'read -P 0x5a 1M 64k' -c 'read -P 0 0 1M' " +
                                d->overlay),
              Not(HasSubstr("Pattern verification failed")));
  EXPECT_THAT(testsupport::ShOk("qemu-io -f raw -c 'read -P 0 1M 64k' " + dir_ + "/base.img"),
              Not(HasSubstr("Pattern verification failed")))
      << "the base is unchanged";

  // Prepared again for another base: the link follows, the overlay is new.
  ASSERT_TRUE(CreateEmptyDisk(dir_ + "/other.img", 5 << 20, Me()).ok());
  auto again = PrepareEphemeral(dir_, "root", dir_ + "/other.img", "raw", Me());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(fs::read_symlink(d->base_link), dir_ + "/other.img");
  EXPECT_THAT(testsupport::ShOk("qemu-img info --output=json " + d->overlay),
              HasSubstr("\"virtual-size\": 5242880"));
  ASSERT_TRUE(RemoveEphemeral(*d).ok());
  EXPECT_FALSE(fs::exists(d->overlay));
  EXPECT_FALSE(fs::is_symlink(d->base_link));
  EXPECT_TRUE(RemoveEphemeral(*d).ok()) << "removing twice is fine";
  EXPECT_FALSE(PrepareEphemeral(dir_, "a/b", dir_ + "/base.img", "raw", Me()).ok());
  EXPECT_FALSE(PrepareEphemeral(dir_, "root", dir_ + "/missing.img", "raw", Me()).ok());
  EXPECT_FALSE(fs::exists(d->overlay)) << "nothing left by a failed prepare";
}

TEST_F(VmDisksTest, EmptyDiskIsSparseSizedAndFreshEachTime) {
  const std::string p = dir_ + "/scratch.img";
  ASSERT_TRUE(CreateEmptyDisk(p, 2ll << 30, Me()).ok());
  struct stat st {};
  ASSERT_EQ(stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 2ll << 30);
  EXPECT_LT(st.st_blocks * 512, 1 << 20) << "sparse: no space spent";
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  testsupport::ShOk("echo data > " + p);
  ASSERT_TRUE(CreateEmptyDisk(p, 1 << 20, Me()).ok());
  ASSERT_EQ(stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 1 << 20);
  EXPECT_EQ(testsupport::ShOk("head -c 4 " + p + " | od -An -tx1"), " 00 00 00 00\n");
  EXPECT_FALSE(CreateEmptyDisk(p, 0, Me()).ok());
  EXPECT_FALSE(CreateEmptyDisk(dir_ + "/no/such/dir.img", 1, Me()).ok());
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), {}), 1) << "no temporary file left";
}

TEST_F(VmDisksTest, HostDiskDiskOrCreate) {
  api::HostDiskSource h{.path = dir_ + "/host/sub/disk.img", .type = "Disk"};
  auto missing = EnsureHostDisk(h, Me(), "spec.volumes[2].hostDisk");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("spec.volumes[2].hostDisk.path: " + h.path + " does not exist"));
  h.type = "DiskOrCreate";
  h.capacity_bytes = 1 << 30;
  auto made = EnsureHostDisk(h, Me(), "spec.volumes[2].hostDisk");
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_TRUE(*made);
  EXPECT_EQ(fs::file_size(h.path), 1u << 30);
  testsupport::ShOk("printf kept > " + h.path);
  auto kept = EnsureHostDisk(h, Me(), "spec.volumes[2].hostDisk");
  ASSERT_TRUE(kept.ok());
  EXPECT_FALSE(*kept) << "an existing host disk is used as it is";
  EXPECT_EQ(testsupport::ShOk("cat " + h.path), "kept");
  h.path = dir_;
  EXPECT_THAT(std::string(EnsureHostDisk(h, Me(), "f").status().message()),
              HasSubstr("is not a file or block device"));
}

TEST_F(VmDisksTest, ClaimPaths) {
  fs::create_directories(dir_ + "/claims/fs-claim");
  std::ofstream(dir_ + "/claims/fs-claim/disk.img") << "x";
  std::ofstream(dir_ + "/claims/file-claim") << "x";
  fs::create_directories(dir_ + "/claims/empty-claim");
  const std::string root = dir_ + "/claims";
  EXPECT_EQ(*ClaimImagePath(root, "fs-claim", "f"), root + "/fs-claim/disk.img");
  EXPECT_EQ(*ClaimImagePath(root, "file-claim", "f"), root + "/file-claim");
  auto none = ClaimImagePath(root, "empty-claim", "spec.volumes[3].persistentVolumeClaim");
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(
      std::string(none.status().message()),
      HasSubstr("spec.volumes[3].persistentVolumeClaim: claim \"empty-claim\" has no disk"));
  EXPECT_FALSE(ClaimImagePath(root, "../etc", "f").ok());
}

}  // namespace
}  // namespace k6t::launcher::disks
