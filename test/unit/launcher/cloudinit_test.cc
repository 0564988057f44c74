// Cloud-init data and its ISO: values resolved from the VMI (inline, base64, secrets), the
// meta-data documents, and the ISO read back three ways (libisofs with Rock Ridge names,
// libisofs with Joliet names, and xorriso's extractor) with its volume label.
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#define LIBISOFS_WITHOUT_LIBBURN 1
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libisofs/libisofs.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "k6t/api/decode.h"
#include "k6t/launcher/cloudinit.h"
#include "nlohmann/json.hpp"
#include "test/support/shell.h"

namespace k6t::launcher::cloudinit {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;
using testsupport::Sh;
using testsupport::ShOk;
using testsupport::TempDir;

api::Vmi Vmi(const std::string& volumes, const std::string& extra_spec = "") {
  auto v = api::DecodeSingleVmi(absl::StrCat(R"(
apiVersion: kubevirt.io/v1
kind: VirtualMachineInstance
metadata: {name: web.1, namespace: prod}
spec:
)",
                                             extra_spec, R"(
  domain: {devices: {disks: [{name: ci, disk: {}}]}}
  volumes:
    - name: ci
)",
                                             volumes),
                                "t");
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : api::Vmi{};
}

void WriteFile(const std::string& path, const std::string& data) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Every regular file of an ISO image by path, and its volume id, as libisofs reads them.
struct IsoContents {
  std::string volume_id;
  std::map<std::string, std::string> files;
  std::map<std::string, mode_t> modes;
  bool rock_ridge = false;
  bool joliet = false;
};

void Walk(IsoDir* dir, const std::string& prefix, IsoContents& out) {
  IsoDirIter* it = nullptr;
  ASSERT_GE(iso_dir_get_children(dir, &it), 0);
  IsoNode* node = nullptr;
  while (iso_dir_iter_next(it, &node) == 1) {
    const std::string path = prefix + iso_node_get_name(node);
    if (iso_node_get_type(node) == LIBISO_DIR) {
      Walk(reinterpret_cast<IsoDir*>(node), path + "/", out);
      continue;
    }
    IsoStream* s = iso_file_get_stream(reinterpret_cast<::IsoFile*>(node));
    ASSERT_GE(iso_stream_open(s), 0);
    std::string data;
    char buf[4096];
    int n;
    while ((n = iso_stream_read(s, buf, sizeof(buf))) > 0) data.append(buf, n);
    iso_stream_close(s);
    out.files[path] = data;
    out.modes[path] = iso_node_get_permissions(node);
  }
  iso_dir_iter_free(it);
}

IsoContents ReadIso(const std::string& path, bool joliet_names) {
  IsoContents out;
  iso_init();
  IsoDataSource* src = nullptr;
  EXPECT_GE(iso_data_source_new_from_file(path.c_str(), &src), 0);
  IsoReadOpts* opts = nullptr;
  iso_read_opts_new(&opts, 0);
  if (joliet_names) {
    iso_read_opts_set_no_rockridge(opts, 1);
    iso_read_opts_set_preferjoliet(opts, 1);
  }
  IsoImage* image = nullptr;
  iso_image_new("read", &image);
  IsoReadImageFeatures* features = nullptr;
  const int rc = iso_image_import(image, src, opts, &features);
  EXPECT_GE(rc, 0) << iso_error_to_msg(rc);
  if (rc >= 0) {
    out.volume_id = iso_image_get_volume_id(image);
    out.rock_ridge = iso_read_image_features_has_rockridge(features);
    out.joliet = iso_read_image_features_has_joliet(features);
    Walk(iso_image_get_root(image), "", out);
    iso_read_image_features_destroy(features);
  }
  iso_image_unref(image);
  iso_read_opts_free(opts);
  iso_data_source_unref(src);
  return out;
}

constexpr char kNoCloud[] = R"(      cloudInitNoCloud:
        userData: |
          #cloud-config
          ssh_authorized_keys: [ssh-ed25519 AAAAC3Nz k6t@test]
        networkData: |
          version: 2
          ethernets: {eth1: {addresses: [10.10.10.14/24]}}
)";

TEST(CloudInitDataTest, NoCloudInlineValuesAndMetaData) {
  const api::Vmi vmi = Vmi(kNoCloud);
  auto d = ReadCloudInitData(vmi);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(d->has_value());
  const CloudInitData& c = **d;
  EXPECT_EQ(c.source, DataSource::kNoCloud);
  EXPECT_EQ(c.volume_name, "ci");
  EXPECT_EQ(c.field_path, "spec.volumes[0].cloudInitNoCloud");
  EXPECT_THAT(c.user_data, HasSubstr("ssh-ed25519 AAAAC3Nz"));
  EXPECT_THAT(c.network_data, HasSubstr("10.10.10.14/24"));
  EXPECT_EQ(c.hostname, "web");  // the name up to its first dot
  EXPECT_EQ(c.instance_id, vmi.meta.uid);
  EXPECT_EQ(c.config_drive_instance_id, "web.1.prod");
  auto meta = nlohmann::json::parse(NoCloudMetaData(c));
  EXPECT_EQ(meta, nlohmann::json({{"instance-id", vmi.meta.uid}, {"local-hostname", "web"}}));
}

TEST(CloudInitDataTest, InstanceIdIsStableAcrossDecodesAndFollowsFirmwareUuid) {
  // A restart decodes the same manifest again: same id, so cloud-init does not re-run.
  EXPECT_EQ(InstanceId(Vmi(kNoCloud)), InstanceId(Vmi(kNoCloud)));
  EXPECT_FALSE(InstanceId(Vmi(kNoCloud)).empty());
  const api::Vmi with_uuid = Vmi(kNoCloud, "  hostname: db\n");
  EXPECT_EQ(LocalHostname(with_uuid), "db");
  api::Vmi fw = Vmi(kNoCloud);
  fw.spec.domain.firmware_uuid = "5d307ca9-b3ef-428c-8861-06e72d69f223";
  EXPECT_EQ(InstanceId(fw), "5d307ca9-b3ef-428c-8861-06e72d69f223");
  api::Vmi long_name = Vmi(kNoCloud);
  long_name.meta.name = std::string(80, 'a');
  EXPECT_EQ(LocalHostname(long_name), std::string(63, 'a'));
}

TEST(CloudInitDataTest, Base64AndNoCloudVolumeAbsent) {
  auto d = ReadCloudInitData(
      Vmi("      cloudInitConfigDrive: {userDataBase64: I2Nsb3VkLWNvbmZpZwpob3N0bmFtZTogeAo=}\n"));
  ASSERT_TRUE(d.ok() && d->has_value()) << d.status();
  EXPECT_EQ((*d)->source, DataSource::kConfigDrive);
  EXPECT_EQ((*d)->user_data, "#cloud-config\nhostname: x\n");
  auto none = ReadCloudInitData(Vmi("      emptyDisk: {capacity: 1Mi}\n"));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(CloudInitDataTest, SecretsFromKubeVirtsLayoutThenBySecretName) {
  const std::string root = TempDir();
  SecretDirs dirs{root + "/kubevirt", root + "/secrets"};
  const api::Vmi vmi =
      Vmi("      cloudInitNoCloud: {secretRef: {name: ud}, networkDataSecretRef: {name: nd}}\n");
  // Nothing there yet: the error names the field and every place looked at.
  auto missing = ReadCloudInitData(vmi, dirs);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("spec.volumes[0].cloudInitNoCloud.secretRef: secret \"ud\" not found"));
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr(root + "/secrets/ud/userData"));

  WriteFile(root + "/secrets/ud/userData", "#cloud-config\nfrom: secret-dir\n");
  WriteFile(root + "/secrets/nd/networkdata", "version: 2\n");
  auto by_name = ReadCloudInitData(vmi, dirs);
  ASSERT_TRUE(by_name.ok()) << by_name.status();
  EXPECT_EQ((*by_name)->user_data, "#cloud-config\nfrom: secret-dir\n");
  EXPECT_EQ((*by_name)->network_data, "version: 2\n");

  // KubeVirt's in-pod mount (named after the volume) wins.
  WriteFile(root + "/kubevirt/ci/userdata", "#cloud-config\nfrom: kubevirt\n");
  auto in_pod = ReadCloudInitData(vmi, dirs);
  ASSERT_TRUE(in_pod.ok());
  EXPECT_EQ((*in_pod)->user_data, "#cloud-config\nfrom: kubevirt\n");

  // Bounded: a key over 1 MiB is refused, naming the file.
  WriteFile(root + "/kubevirt/ci/userdata", std::string(kMaxSecretBytes + 1, 'x'));
  auto big = ReadCloudInitData(vmi, dirs);
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(std::string(big.status().message()), HasSubstr("a secret key holds at most"));
  Sh("rm -rf " + root);
}

TEST(CloudInitIsoTest, NoCloudIsoReadsBackWithEveryFileAndTheLabel) {
  auto d = ReadCloudInitData(Vmi(kNoCloud));
  ASSERT_TRUE(d.ok() && d->has_value());
  const std::string dir = TempDir();
  const std::string iso = dir + "/noCloud.iso";
  ASSERT_TRUE(WriteIso(**d, iso, FileOwner{getuid(), getgid(), 0440}).ok());

  struct stat st {};
  ASSERT_EQ(stat(iso.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0440u);
  EXPECT_EQ(st.st_uid, getuid());
  EXPECT_EQ(st.st_size % 2048, 0);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1)
      << "no temporary file is left next to the ISO";

  const std::map<std::string, std::string> want = {{"meta-data", NoCloudMetaData(**d)},
                                                   {"user-data", (*d)->user_data},
                                                   {"network-config", (*d)->network_data}};
  const IsoContents rr = ReadIso(iso, false);
  EXPECT_EQ(rr.volume_id, "cidata");
  EXPECT_TRUE(rr.rock_ridge);
  EXPECT_TRUE(rr.joliet);
  EXPECT_EQ(rr.files, want);
  for (const auto& [path, mode] : rr.modes) EXPECT_EQ(mode, 0444u) << path;
  EXPECT_EQ(ReadIso(iso, true).files, want) << "Joliet names";

  // An independent reader: xorriso's extractor, Rock Ridge names.
  const std::string out = dir + "/x";
  ShOk(absl::StrCat("osirrox -indev ", iso, " -extract / ", out, " 2>/dev/null"));
  for (const auto& [path, data] : want) EXPECT_EQ(ReadFile(out + "/" + path), data) << path;
  EXPECT_THAT(ShOk(absl::StrCat("xorriso -indev ", iso, " -pvd_info 2>/dev/null")),
              HasSubstr("Volume Id    : cidata"));
  Sh("rm -rf " + dir);
}

TEST(CloudInitIsoTest, ConfigDriveLayout) {
  auto d = ReadCloudInitData(Vmi(R"(      cloudInitConfigDrive:
        userData: "#cloud-config"
        networkData: '{"links": [], "networks": [], "services": []}'
)",
                                 "  hostname: cfg\n"));
  ASSERT_TRUE(d.ok() && d->has_value());
  auto files = IsoLayout(**d);
  ASSERT_TRUE(files.ok()) << files.status();
  std::vector<std::string> paths;
  for (const auto& f : *files) paths.push_back(f.path);
  EXPECT_THAT(paths, ElementsAre("openstack/latest/meta_data.json", "openstack/latest/user_data",
                                 "openstack/latest/network_data.json"));
  auto meta = nlohmann::json::parse((*files)[0].contents);
  EXPECT_EQ(meta["instance_id"], "web.1.prod");
  EXPECT_EQ(meta["uuid"], (*d)->instance_id);
  EXPECT_EQ(meta["hostname"], "cfg");

  const std::string dir = TempDir();
  ASSERT_TRUE(WriteIso(**d, dir + "/cd.iso", FileOwner{getuid(), getgid(), 0640}).ok());
  const IsoContents rr = ReadIso(dir + "/cd.iso", false);
  EXPECT_EQ(rr.volume_id, "config-2");
  // What cloud-init asks for (blkid reads the Joliet label when there is one).
  EXPECT_EQ(ShOk("blkid -o value -s LABEL " + dir + "/cd.iso"), "config-2\n");
  EXPECT_THAT(rr.files, UnorderedElementsAre(
                            Pair("openstack/latest/meta_data.json", (*files)[0].contents),
                            Pair("openstack/latest/user_data", "#cloud-config"),
                            Pair("openstack/latest/network_data.json", (*files)[2].contents)));
  Sh("rm -rf " + dir);

  // YAML network data cannot be a network_data.json: refused, naming the field.
  (*d)->network_data = "version: 2\n";
  auto bad = IsoLayout(**d);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("spec.volumes[0].cloudInitConfigDrive.networkData: a config drive's "
                        "network_data.json must be JSON"));
}

TEST(CloudInitIsoTest, SameInputSameBytes) {
  auto a = BuildIso({{"meta-data", "{}"}, {"user-data", ""}}, "cidata");
  auto b = BuildIso({{"meta-data", "{}"}, {"user-data", ""}}, "cidata");
  auto c = BuildIso({{"meta-data", "{}"}, {"user-data", "x"}}, "cidata");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
}

TEST(CloudInitIsoTest, FailedWriteLeavesNothing) {
  auto d = ReadCloudInitData(Vmi(kNoCloud));
  ASSERT_TRUE(d.ok() && d->has_value());
  auto s = WriteIso(**d, "/nonexistent-dir-k6t/ci.iso", FileOwner{getuid(), getgid(), 0440});
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("/nonexistent-dir-k6t/ci.iso"));
  // A file and a directory of one name cannot both be in the image.
  EXPECT_FALSE(BuildIso({{"a", "1"}, {"a/b", "2"}}, "cidata").ok());
}

TEST(CloudInitMetaDataTest, HostileValuesStayValidJson) {
  CloudInitData d;
  d.instance_id = std::string("id\"\n\x01\xff", 6);
  d.hostname = "h\": \"injected";
  d.config_drive_instance_id = "a\\b";
  for (const std::string& doc : {NoCloudMetaData(d), ConfigDriveMetaData(d)}) {
    auto j = nlohmann::json::parse(doc, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << doc;
    EXPECT_EQ(j.size(), j.contains("name") ? 4u : 2u);
  }
  EXPECT_EQ(nlohmann::json::parse(NoCloudMetaData(d))["local-hostname"], "h\": \"injected");
}

}  // namespace
}  // namespace k6t::launcher::cloudinit
