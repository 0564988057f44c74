// containerDisk resolution from a local image store: OCI layouts and archives, lookup by
// the names runtimes write, layers and whiteouts, the shared extraction cache (once per
// digest, atomic, concurrent), the in-pod convention, and errors that name the volume.
#include "k6t/launcher/image_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "k6t/api/decode.h"
#include "oci_builder.h"
#include "test/support/shell.h"

namespace k6t::launcher::images {
namespace {

namespace fs = std::filesystem;
using k6t::testing::Compression;
using k6t::testing::Entry;
using k6t::testing::FakeQcow2;
using k6t::testing::Layer;
using k6t::testing::OciLayout;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testsupport::Sh;
using testsupport::ShOk;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

api::Vmi VmWith(const std::string& container_disk) {
  auto v = api::DecodeSingleVmi(absl::StrCat(R"(
kind: VirtualMachineInstance
metadata: {name: vm}
spec:
  domain: {devices: {disks: [{name: root}]}}
  volumes:
    - name: root
      containerDisk: )",
                                             container_disk, "\n"),
                                "t");
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : api::Vmi{};
}

class ImageStoreTest : public ::testing::Test {
 protected:
  ImageStoreTest() : root_(testsupport::TempDir()) {
    fs::create_directories(root_ + "/store");
    opts_.store_dir = root_ + "/store";
    opts_.container_disks_dir = root_ + "/pod";
    opts_.owner_uid = getuid();
    opts_.owner_gid = getgid();
  }
  ~ImageStoreTest() override { Sh("chmod -R u+w " + root_ + "; rm -rf " + root_); }

  absl::StatusOr<ResolvedDisk> Resolve(const std::string& cd) {
    return ImageStore(opts_).Resolve(VmWith(cd), 0);
  }
  std::vector<std::string> CacheEntries() {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root_ + "/store/.extracted", ec))
      if (e.path().extension() != ".lock") out.push_back(e.path().filename().string());
    return out;
  }

  std::string root_;
  ImageStoreOptions opts_;
};

TEST_F(ImageStoreTest, OciLayoutByFullNameExtractedOnceReadOnly) {
  OciLayout l(root_ + "/store/debian");
  const std::string disk = FakeQcow2(300000, 'a');
  l.Top({{l.Manifest({Layer({{"disk", "", true}, {"disk/debian.qcow2", disk}})}),
          {{"io.containerd.image.name", "quay.io/k6t/debian:12"},
           {"org.opencontainers.image.ref.name", "12"}}}});

  auto r = Resolve("{image: quay.io/k6t/debian:12}");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->extracted);
  EXPECT_EQ(r->format, "qcow2");
  EXPECT_EQ(ReadFile(r->path), disk);
  EXPECT_THAT(r->digest, HasSubstr("sha256:"));
  struct stat st {};
  ASSERT_EQ(stat(r->path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0444u);
  ASSERT_EQ(stat(fs::path(r->path).parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0555u);

  // A second VM on the same image: no extraction, same file.
  auto again = Resolve("{image: quay.io/k6t/debian:12}");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->extracted);
  EXPECT_EQ(again->path, r->path);
  EXPECT_EQ(CacheEntries().size(), 1u);
}

TEST_F(ImageStoreTest, BareTagInADirectoryNamedAfterTheRepository) {
  // What `skopeo copy docker://quay.io/containerdisks/fedora:40 oci:store/fedora:40` writes.
  OciLayout l(root_ + "/store/fedora");
  l.Top({{l.Manifest({Layer({{"disk/fedora.img", "raw disk"}}, Compression::kNone)},
                     Compression::kNone),
          {{"org.opencontainers.image.ref.name", "40"}}}});
  auto r = Resolve("{image: quay.io/containerdisks/fedora:40}");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->format, "raw");
  EXPECT_EQ(ReadFile(r->path), "raw disk");
  auto other_tag = Resolve("{image: quay.io/containerdisks/fedora:41}");
  ASSERT_FALSE(other_tag.ok());
  EXPECT_THAT(std::string(other_tag.status().message()),
              HasSubstr("spec.volumes[0].containerDisk.image: "
                        "quay.io/containerdisks/fedora:41 not found in the image store"));
  EXPECT_THAT(std::string(other_tag.status().message()), HasSubstr("fedora:40"));
}

TEST_F(ImageStoreTest, MultiArchIndexPicksAmd64AndDigestReferences) {
  OciLayout l(root_ + "/store/multi");
  const auto arm = l.Manifest({Layer({{"disk/d.img", "arm64 disk"}})});
  const auto amd =
      l.Manifest({Layer({{"disk/d.img", "amd64 disk"}}, Compression::kZstd)}, Compression::kZstd);
  const auto index = l.Index({{arm, "arm64"}, {amd, "amd64"}});
  l.Top({{index, {{"io.containerd.image.name", "registry:5000/k6t/multi:v1"}}}});
  auto r = Resolve("{image: 'registry:5000/k6t/multi:v1'}");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(ReadFile(r->path), "amd64 disk");
  EXPECT_EQ(r->digest, amd["digest"]);
  auto by_digest = Resolve(
      absl::StrCat("{image: 'registry:5000/k6t/multi@", index["digest"].get<std::string>(), "'}"));
  ASSERT_TRUE(by_digest.ok()) << by_digest.status();
  EXPECT_EQ(by_digest->path, r->path);
}

TEST_F(ImageStoreTest, LaterLayersWhiteOutEarlierFiles) {
  OciLayout l(root_ + "/store/wh");
  l.Top({{l.Manifest({Layer({{"disk/a.img", "A"}, {"disk/b.img", "B"}, {"disk/old/x", "X"}}),
                      Layer({{"disk/.wh.b.img", ""}, {"disk/.wh.old", ""}})}),
          {{"io.containerd.image.name", "k6t/wh:1"}}},
         {l.Manifest({Layer({{"disk/old.img", "OLD"}}),
                      Layer({{"disk/.wh..wh..opq", ""}, {"disk/new.img", "NEW"}})}),
          {{"io.containerd.image.name", "k6t/opq:1"}}},
         {l.Manifest({Layer({{"disk/a.img", "A"}, {"disk/b.img", "B"}})}),
          {{"io.containerd.image.name", "k6t/two:1"}}}});
  auto wh = Resolve("{image: 'k6t/wh:1'}");
  ASSERT_TRUE(wh.ok()) << wh.status();
  EXPECT_EQ(ReadFile(wh->path), "A");
  auto opq = Resolve("{image: 'k6t/opq:1'}");
  ASSERT_TRUE(opq.ok()) << opq.status();
  EXPECT_EQ(ReadFile(opq->path), "NEW");
  auto two = Resolve("{image: 'k6t/two:1'}");
  ASSERT_FALSE(two.ok());
  EXPECT_THAT(std::string(two.status().message()),
              HasSubstr("spec.volumes[0].containerDisk.image: docker.io/k6t/two:1: the image has 2 "
                        "files in /disk/ (/disk/a.img, /disk/b.img); name one with "
                        "containerDisk.path"));
  auto named = Resolve("{image: 'k6t/two:1', path: /disk/b.img}");
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_EQ(ReadFile(named->path), "B");
  auto missing = Resolve("{image: 'k6t/two:1', path: /disk/c.img}");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("spec.volumes[0].containerDisk.path: docker.io/k6t/two:1: the image has no "
                        "/disk/c.img"));
}

TEST_F(ImageStoreTest, CorruptLayerLeavesNothingBehind) {
  OciLayout l(root_ + "/store/bad");
  const auto m = l.Manifest({Layer({{"disk/d.img", "good"}})});
  l.Top({{m, {{"io.containerd.image.name", "k6t/bad:1"}}}});
  // Flip the layer's bytes after the fact: the manifest still names the old digest.
  for (const auto& e : fs::directory_iterator(l.dir() + "/blobs/sha256")) {
    const std::string data = ReadFile(e.path());
    if (data.size() > 2 && static_cast<unsigned char>(data[0]) == 0x1f)
      OciLayout::Write(e.path(), k6t::testing::Layer({{"disk/d.img", "evil"}}));
  }
  auto r = Resolve("{image: 'k6t/bad:1'}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("spec.volumes[0].containerDisk.image: OCI layout"));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("not the sha256:"));
  EXPECT_THAT(CacheEntries(), IsEmpty()) << "no disk and no temporary dir are left";
}

TEST_F(ImageStoreTest, ConcurrentResolversExtractOnce) {
  OciLayout l(root_ + "/store/c");
  l.Top({{l.Manifest({Layer({{"disk/d.qcow2", FakeQcow2(4 << 20, 'c')}})}),
          {{"io.containerd.image.name", "k6t/c:1"}}}});
  std::atomic<int> extracted = 0, ok = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i)
    threads.emplace_back([&] {
      auto r = Resolve("{image: 'k6t/c:1'}");
      ok += r.ok();
      extracted += r.ok() && r->extracted;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 6);
  EXPECT_EQ(extracted, 1);
  EXPECT_EQ(CacheEntries().size(), 1u);
}

TEST_F(ImageStoreTest, StaleTemporaryDirIsRemoved) {
  OciLayout l(root_ + "/store/s");
  const auto m = l.Manifest({Layer({{"disk/d.img", "disk"}})});
  l.Top({{m, {{"io.containerd.image.name", "k6t/s:1"}}}});
  std::string key = m["digest"];
  key.replace(6, 1, "-");
  const std::string stale = root_ + "/store/.extracted/.tmp-" + key + "-999-dead";
  fs::create_directories(stale + "/layers");
  auto r = Resolve("{image: 'k6t/s:1'}");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(fs::exists(stale));
}

TEST_F(ImageStoreTest, OciAndDockerArchives) {
  OciLayout l(root_ + "/build/oci");
  l.Top({{l.Manifest({Layer({{"disk/o.img", "from oci archive"}})}),
          {{"org.opencontainers.image.ref.name", "quay.io/k6t/oci-arch:2"}}}});
  ShOk(absl::StrCat("tar -C ", l.dir(), " -czf ", root_, "/store/oci-arch.tar.gz ."));
  auto oci = Resolve("{image: 'quay.io/k6t/oci-arch:2'}");
  ASSERT_TRUE(oci.ok()) << oci.status();
  EXPECT_EQ(ReadFile(oci->path), "from oci archive");

  // docker save's layout: manifest.json, a config, a layer per directory.
  const std::string d = root_ + "/build/docker";
  fs::create_directories(d + "/abc");
  OciLayout::Write(d + "/abc/layer.tar",
                   Layer({{"disk/d.img", "from docker archive"}}, Compression::kNone));
  OciLayout::Write(d + "/cfg.json", R"({"architecture":"amd64"})");
  OciLayout::Write(
      d + "/manifest.json",
      R"([{"Config":"cfg.json","RepoTags":["k6t/docker-arch:3"],"Layers":["abc/layer.tar"]}])");
  ShOk(absl::StrCat("tar -C ", d, " -cf ", root_, "/store/docker-arch.tar ."));
  auto docker = Resolve("{image: 'docker.io/k6t/docker-arch:3'}");
  ASSERT_TRUE(docker.ok()) << docker.status();
  EXPECT_EQ(ReadFile(docker->path), "from docker archive");
  EXPECT_EQ(docker->digest, k6t::testing::Sha256(R"({"architecture":"amd64"})"));
}

TEST_F(ImageStoreTest, InPodConventionComesFirst) {
  fs::create_directories(root_ + "/pod/disk_0");
  OciLayout::Write(root_ + "/pod/disk_0.img", FakeQcow2(100, 'p'));
  auto r = Resolve("{image: 'quay.io/not/in-store:1'}");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->path, root_ + "/pod/disk_0.img");
  EXPECT_EQ(r->format, "qcow2");
  EXPECT_FALSE(r->extracted);
  // A mounted image filesystem: the path the VMI names, or the one file under /disk/.
  fs::remove(root_ + "/pod/disk_0.img");
  fs::create_directories(root_ + "/pod/disk_0/disk");
  OciLayout::Write(root_ + "/pod/disk_0/disk/only.img", "raw");
  auto mounted = Resolve("{image: 'quay.io/not/in-store:1'}");
  ASSERT_TRUE(mounted.ok()) << mounted.status();
  EXPECT_EQ(mounted->path, root_ + "/pod/disk_0/disk/only.img");
  auto bad = Resolve("{image: 'quay.io/not/in-store:1', path: /disk/none.img}");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("spec.volumes[0].containerDisk.path: "));
}

TEST_F(ImageStoreTest, NotAContainerDiskVolume) {
  api::Vmi v = VmWith("{image: x}");
  v.spec.volumes[0].container_disk.reset();
  auto r = ImageStore(opts_).Resolve(v, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("spec.volumes[0].containerDisk: not a containerDisk volume"));
}

}  // namespace
}  // namespace k6t::launcher::images
