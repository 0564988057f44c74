// k6t's ephemeral overlays (k6t/launcher/vm_disks.h) against the real embedded QEMU driver
// (Debian's libvirt 9.0 + QEMU 7.2 under TCG here): two VMs share one read-only base, each
// runs on its own overlay in its own directory, the overlays go with RemoveEphemeral and
// the base never changes. Needs root.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "k6t/launcher/vm_disks.h"
#include "nlohmann/json.hpp"
#include "test/support/shell.h"

namespace k6t::launcher::disks {
namespace {

namespace fs = std::filesystem;
using testsupport::Sh;
using testsupport::ShOk;

constexpr uid_t kQemuUid = 107;

std::string DomainXml(const std::string& name, const EphemeralDisk& d) {
  return absl::StrCat(R"(<domain type='qemu'>
  <name>)",
                      name, R"(</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file=')",
                      d.overlay, R"('/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>)");
}

// One embedded driver for the whole suite: libvirt opens a single embedded root per process.
struct EmbeddedLibvirt {
  std::string root, base_sum;
  virConnectPtr conn = nullptr;
  std::atomic<bool> stop = false;
  std::thread loop;
};

class EphemeralDiskE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    if (!env_) Start();
    ASSERT_NE(env_->conn, nullptr) << "the embedded driver did not open";
  }
  static void Start() {
    env_ = new EmbeddedLibvirt;
    env_->root = testsupport::TempDir();
    const std::string& root = env_->root;
    chmod(root.c_str(), 0755);
    fs::create_directories(root + "/embed/etc");
    // dynamic_ownership = 1: libvirt gives the overlay it creates to the QEMU user.
    std::ofstream(root + "/embed/etc/qemu.conf") << R"(user = "+107"
group = "+107"
dynamic_ownership = 1
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
)";
    fs::create_directories(root + "/cache");
    ShOk(absl::StrCat("qemu-img create -q -f qcow2 ", base(), " 64M"));
    ShOk(absl::StrCat("chown 107:107 ", base(), " && chmod 0444 ", base(), " && chmod 0555 ", root,
                      "/cache"));
    env_->base_sum = ShOk("sha256sum " + base());
    virInitialize();
    virEventRegisterDefaultImpl();
    env_->loop = std::thread([] {
      while (!env_->stop) virEventRunDefaultImpl();
    });
    env_->conn = virConnectOpen(absl::StrCat("qemu:///embed?root=", root, "/embed").c_str());
    if (!env_->conn) ADD_FAILURE() << virGetLastErrorMessage();
  }
  static void TearDownTestSuite() {
    if (!env_) return;
    if (env_->conn) virConnectClose(env_->conn);
    env_->stop = true;
    virEventAddTimeout(
        0, [](int, void*) {}, nullptr, nullptr);  // wake the loop
    env_->loop.join();
    Sh("chmod -R u+w " + env_->root + "; rm -rf " + env_->root);
    delete env_;
    env_ = nullptr;
  }
  static std::string base() { return env_->root + "/cache/base.qcow2"; }
  static std::string VmDir(const std::string& name) {
    const std::string d = env_->root + "/" + name;
    fs::create_directories(d);
    chown(d.c_str(), kQemuUid, kQemuUid);
    chmod(d.c_str(), 0700);
    return d;
  }

  static EmbeddedLibvirt* env_;
};
EmbeddedLibvirt* EphemeralDiskE2E::env_ = nullptr;

TEST_F(EphemeralDiskE2E, TwoVmsShareAReadOnlyBaseEachWithItsOwnOverlay) {
  std::vector<std::pair<EphemeralDisk, virDomainPtr>> vms;
  for (const char* name : {"eph-a", "eph-b"}) {
    auto d = PrepareEphemeral(VmDir(name), "root", base(), "qcow2", Owner{kQemuUid, kQemuUid});
    ASSERT_TRUE(d.ok()) << d.status();
    virDomainPtr dom = virDomainCreateXML(env_->conn, DomainXml(name, *d).c_str(), 0);
    ASSERT_NE(dom, nullptr) << name << ": " << virGetLastErrorMessage();
    vms.emplace_back(*d, dom);
  }
  for (const auto& [d, dom] : vms) {
    struct stat st {};
    ASSERT_EQ(stat(d.overlay.c_str(), &st), 0) << d.overlay;
    EXPECT_EQ(st.st_uid, kQemuUid) << "QEMU's user owns the overlay";
    auto info = nlohmann::json::parse(ShOk("qemu-img info -U --output=json " + d.overlay));
    EXPECT_EQ(info["format"], "qcow2");
    EXPECT_EQ(info["backing-filename"], d.base_link);
    // The live domain shows the chain QEMU opened: the overlay over the link, read-only.
    char* xml = virDomainGetXMLDesc(dom, 0);
    ASSERT_NE(xml, nullptr);
    EXPECT_THAT(std::string(xml), ::testing::HasSubstr("<source file='" + d.base_link + "'"));
    free(xml);
  }
  for (auto& [d, dom] : vms) {
    ASSERT_EQ(virDomainDestroy(dom), 0) << virGetLastErrorMessage();
    virDomainFree(dom);
    EXPECT_TRUE(RemoveEphemeral(d).ok());
    EXPECT_FALSE(fs::exists(d.overlay));
    EXPECT_FALSE(fs::is_symlink(d.base_link));
  }
  EXPECT_EQ(ShOk("sha256sum " + base()), env_->base_sum) << "the shared base never changes";
}

}  // namespace
}  // namespace k6t::launcher::disks
