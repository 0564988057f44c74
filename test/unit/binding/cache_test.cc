#include "k6t/binding/cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "k6t/binding/plan_json.h"
#include "k6t/binding/planner.h"
#include "test_pod.h"

namespace k6t::binding {
namespace {

class CacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/k6t-cache-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

std::vector<InterfacePlan> SamplePlans() {
  testing::FakeKernel k;
  testing::BuildPod(k, true);
  auto pod = ObservePod(k.kernel());
  std::vector<api::NetworkStatusEntry> none;
  api::Vmi vmi = testing::MasqueradeAndBridgeVmi();
  vmi.spec.domain.interfaces[0].dhcp_options =
      api::DhcpOptions{"boot.efi", "tftp.example", {"10.0.0.5"}, {{240, "private"}}};
  vmi.spec.domain.interfaces[1].boot_order = 2;
  vmi.spec.domain.interfaces[1].acpi_index = 3;
  auto plans = PlanVmi(PlanRequest{vmi, none, *pod, {}});
  EXPECT_TRUE(plans.ok()) << plans.status();
  return *plans;
}

TEST_F(CacheTest, PlansRoundTripExactly) {
  for (const auto& plan : SamplePlans()) {
    CachedInterface c{plan, PlumbingPhase::kStarted};
    ASSERT_TRUE(WriteCachedInterface(dir_, c).ok());
    auto back = ReadCachedInterface(dir_, plan.interface_name);
    ASSERT_TRUE(back.ok()) << back.status();
    ASSERT_TRUE(*back);
    EXPECT_EQ((*back)->phase, PlumbingPhase::kStarted);
    // Serialising the read-back plan gives the same document: nothing lost.
    EXPECT_EQ(PlanToJson((*back)->plan), PlanToJson(plan));
    EXPECT_EQ((*back)->plan.ops.size(), plan.ops.size());
    ASSERT_TRUE((*back)->plan.device);
    EXPECT_EQ(*(*back)->plan.device, *plan.device);
  }
  auto all = ReadCachedInterfaces(dir_);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].plan.interface_name, "blue");
  EXPECT_EQ((*all)[0].plan.device->boot_order, 2u);
  EXPECT_EQ((*all)[0].plan.device->acpi_index, 3u);
  ASSERT_TRUE((*all)[1].plan.dhcp->v4);
  EXPECT_EQ((*all)[1].plan.dhcp->v4->boot_file_name, "boot.efi");
  EXPECT_EQ((*all)[1].plan.dhcp->v4->private_options[0].second, "private");
}

TEST_F(CacheTest, MissingEntryIsNotAnError) {
  auto r = ReadCachedInterface(dir_, "nope");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_TRUE(RemoveCachedInterface(dir_, "nope").ok());
  auto all = ReadCachedInterfaces(dir_ + "/missing");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

TEST_F(CacheTest, CorruptOrForeignVersionIsRefusedWithThePath) {
  std::filesystem::create_directories(dir_ + "/interfaces");
  std::ofstream(dir_ + "/interfaces/a.json") << "{not json";
  auto r = ReadCachedInterface(dir_, "a");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("a.json"));
  std::ofstream(dir_ + "/interfaces/b.json") << R"({"version": 99, "plan": {}})";
  auto v = ReadCachedInterface(dir_, "b");
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(), ::testing::HasSubstr("schema version 99"));
}

// A plan cached by a k6t whose device was an XML fragment: its plumbing and DHCP read as
// before (teardown and resume work), its device not at all.
TEST_F(CacheTest, SchemaOnePlansReadWithoutTheirDevice) {
  std::filesystem::create_directories(dir_ + "/interfaces");
  std::ofstream(dir_ + "/interfaces/default.json") << R"({
  "version": 1, "phase": "finished",
  "plan": {"interface": "default", "network": "default", "binding": "passt",
           "pod_interface": "eth0", "mac": "02:6b:36:00:00:01", "mtu": 1400, "queues": 1,
           "ops": [{"op": "set_sysctl", "key": "ipv4/ping_group_range", "value": "107\t107",
                    "restore": "1\t0"}],
           "domain_xml": "<interface type='ethernet'/>",
           "notes": [], "original": {"mac": "", "mtu": 0, "index": 0, "addresses": [],
                                     "link_local": [], "routes": []},
           "passt": {"pod_interface": "eth0", "forwards": [["tcp", 22]],
                     "mac": "02:6b:36:00:00:01", "mtu": 1400,
                     "native_domain_xml": "<interface type='vhostuser'/>"}}})";
  auto r = ReadCachedInterface(dir_, "default");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(*r);
  EXPECT_EQ((*r)->phase, PlumbingPhase::kFinished);
  EXPECT_FALSE((*r)->plan.device);
  ASSERT_EQ((*r)->plan.ops.size(), 1u);
  ASSERT_TRUE((*r)->plan.passt);
  EXPECT_EQ((*r)->plan.passt->mtu, 1400);
  EXPECT_EQ((*r)->plan.passt->forwards.size(), 1u);
}

TEST_F(CacheTest, UnknownDeviceKindIsRefusedWithThePath) {
  std::filesystem::create_directories(dir_ + "/interfaces");
  std::ofstream(dir_ + "/interfaces/a.json")
      << R"({"version": 2, "plan": {"interface": "a", "device": {"kind": "macvtap"}}})";
  auto r = ReadCachedInterface(dir_, "a");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("a.json"));
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("unknown device kind \"macvtap\""));
}

TEST_F(CacheTest, NamesCannotEscapeTheStateDir) {
  InterfacePlan p;
  p.interface_name = "../evil";
  EXPECT_FALSE(WriteCachedInterface(dir_, CachedInterface{p, PlumbingPhase::kPending}).ok());
  EXPECT_FALSE(ReadCachedInterface(dir_, "..").ok());
}

TEST_F(CacheTest, AtomicWriteLeavesNoTempFileAndSetsMode) {
  const std::string path = dir_ + "/f.json";
  ASSERT_TRUE(WriteFileAtomically(path, "one", 0600).ok());
  ASSERT_TRUE(WriteFileAtomically(path, "two", 0600).ok());
  std::ifstream in(path);
  std::string s;
  in >> s;
  EXPECT_EQ(s, "two");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir_)) (void)e, ++files;
  EXPECT_EQ(files, 1);
}

}  // namespace
}  // namespace k6t::binding
