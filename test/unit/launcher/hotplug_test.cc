// Hotplug on a FakeLibvirt: attach (idempotent, DHCP first), detach waiting for the guest's
// DEVICE_REMOVED and its timeout, no free pcie-root-port, libvirt refusing (nothing left
// half-done), link state, and SyncVMI's reconcile.
#include "hotplug.h"

#include <future>
#include <mutex>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "k6t/launcher/launcher.h"
#include "launcher_env.h"

namespace k6t::launcher::test {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using testing::FakeLibvirt;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::LibvirtCall;
using ::testing::Not;

// The DHCP servers, as hotplug sees them. Records when each Add happened relative to
// libvirt's attach calls.
class FakeDhcp : public HotplugDhcp {
 public:
  explicit FakeDhcp(FakeLibvirt* libvirt) : libvirt_(libvirt) {}
  absl::Status Add(const binding::DhcpPlan& plan) override {
    std::lock_guard<std::mutex> l(mu_);
    log_.push_back(absl::StrCat("add ", plan.bridge, " after ",
                                libvirt_->calls(LibvirtCall::kAttachDevice), " attach(es)"));
    if (!fail_add_.ok()) return fail_add_;
    served_.insert(plan.bridge);
    return absl::OkStatus();
  }
  absl::Status Remove(const std::string& bridge) override {
    std::lock_guard<std::mutex> l(mu_);
    log_.push_back("remove " + bridge);
    served_.erase(bridge);
    return absl::OkStatus();
  }
  std::set<std::string> served() const {
    std::lock_guard<std::mutex> l(mu_);
    return served_;
  }
  std::vector<std::string> log() const {
    std::lock_guard<std::mutex> l(mu_);
    return log_;
  }
  void FailAdd(absl::Status s) {
    std::lock_guard<std::mutex> l(mu_);
    fail_add_ = std::move(s);
  }

 private:
  FakeLibvirt* libvirt_;
  mutable std::mutex mu_;
  std::set<std::string> served_;
  std::vector<std::string> log_;
  absl::Status fail_add_;
};

class HotplugTest : public ::testing::Test {
 protected:
  void SetUp() override {
    launcher_ = env_.NewLauncher();
    ASSERT_TRUE(launcher_->Start().ok());
    hotplug_ = std::make_unique<Hotplug>(*launcher_, &dhcp_);
    // What `k6t-handler sync` leaves for a new interface before asking the launcher.
    env_.CachePlan(TapPlan("blue", "02:00:00:00:00:02"));
  }

  bool LiveHas(const std::string& alias) {
    return env_.libvirt->LiveXml(kDomain).find("<alias name='" + alias + "'/>") !=
           std::string::npos;
  }
  bool ConfigHas(const std::string& alias) {
    return env_.libvirt->ConfigXml(kDomain).find("<alias name='" + alias + "'/>") !=
           std::string::npos;
  }

  LauncherEnv env_;
  FakeDhcp dhcp_{env_.libvirt.get()};
  std::unique_ptr<Launcher> launcher_;
  std::unique_ptr<Hotplug> hotplug_;
};

TEST_F(HotplugTest, AttachServesDhcpFirstThenPlugsTheDevice) {
  auto r = hotplug_->Attach("blue");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(*r);
  EXPECT_TRUE(LiveHas("ua-blue"));
  EXPECT_TRUE(ConfigHas("ua-blue"));  // survives a reboot of the guest
  EXPECT_THAT(env_.libvirt->call_log(), Contains("attach default_vm ua-blue live|config"));
  EXPECT_THAT(dhcp_.log(), ElementsAre("add k6t-blue after 0 attach(es)"));
  EXPECT_THAT(dhcp_.served(), ElementsAre("k6t-blue"));
  // The device is on a root port of its own.
  auto domain = hotplug_->Domain();
  ASSERT_TRUE(domain.ok()) << domain.status();
  ASSERT_EQ(domain->interfaces.size(), 2u);
  EXPECT_EQ(domain->interfaces[1].name, "blue");
  EXPECT_EQ(domain->interfaces[1].mac, "02:00:00:00:00:02");
}

TEST_F(HotplugTest, AttachingWhatIsAttachedChangesNothing) {
  ASSERT_TRUE(hotplug_->Attach("blue").ok());
  const std::string before = env_.libvirt->Dump();
  auto r = hotplug_->Attach("blue");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(*r);
  EXPECT_EQ(env_.libvirt->calls(LibvirtCall::kAttachDevice), 1);
  EXPECT_EQ(env_.libvirt->Dump(), before);
  EXPECT_THAT(dhcp_.served(), ElementsAre("k6t-blue"));  // still (re)served
}

TEST_F(HotplugTest, AttachWithoutAPlanIsNotFound) {
  auto r = hotplug_->Attach("green");
  EXPECT_TRUE(absl::IsNotFound(r.status())) << r.status();
  EXPECT_EQ(env_.libvirt->calls(LibvirtCall::kAttachDevice), 0);
}

TEST_F(HotplugTest, AttachBeforeThePlumbingIsFinishedIsRefused) {
  env_.CachePlan(TapPlan("blue", "02:00:00:00:00:02"), binding::PlumbingPhase::kStarted);
  auto r = hotplug_->Attach("blue");
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("not finished"));
  EXPECT_THAT(dhcp_.served(), IsEmpty());
}

TEST_F(HotplugTest, PasstInterfacesCannotBeHotplugged) {
  binding::InterfacePlan p = TapPlan("blue", "02:00:00:00:00:02");
  p.passt = binding::PasstPlan{};
  env_.CachePlan(p);
  auto r = hotplug_->Attach("blue");
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("restart required"));
}

TEST_F(HotplugTest, LibvirtRefusingTheAttachLeavesNothingHalfDone) {
  const std::string before = env_.libvirt->Dump();
  env_.libvirt->FailCall(LibvirtCall::kAttachDevice,
                         absl::InternalError("unable to open tap device"));
  auto r = hotplug_->Attach("blue");
  EXPECT_TRUE(absl::IsInternal(r.status())) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("attach interface blue"));
  EXPECT_THAT(r.status().message(), HasSubstr("unable to open tap device"));
  EXPECT_EQ(env_.libvirt->Dump(), before);
  EXPECT_THAT(dhcp_.served(), IsEmpty());  // the DHCP service it started is stopped again
  EXPECT_THAT(dhcp_.log(), ElementsAre("add k6t-blue after 0 attach(es)", "remove k6t-blue"));
  // The next try, libvirt willing, works.
  auto again = hotplug_->Attach("blue");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(*again);
}

TEST_F(HotplugTest, DhcpRefusingIsReportedBeforeLibvirtIsAsked) {
  dhcp_.FailAdd(absl::InvalidArgumentError("no such bridge"));
  auto r = hotplug_->Attach("blue");
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("DHCP on k6t-blue"));
  EXPECT_EQ(env_.libvirt->calls(LibvirtCall::kAttachDevice), 0);
}

TEST_F(HotplugTest, DetachWaitsForTheGuestToReleaseTheDevice) {
  ASSERT_TRUE(hotplug_->Attach("blue").ok());
  env_.libvirt->SetGuestReleasesDevices(false);
  hotplug_->detach_timeout = absl::Seconds(30);
  auto detached = std::async(std::launch::async, [&] { return hotplug_->Detach("blue"); });
  EXPECT_EQ(detached.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  EXPECT_TRUE(LiveHas("ua-blue"));     // the guest has not let go yet
  EXPECT_FALSE(ConfigHas("ua-blue"));  // the definition no longer has it
  EXPECT_THAT(dhcp_.served(), ElementsAre("k6t-blue"));
  ASSERT_TRUE(env_.libvirt->ReleaseDevice(kDomain, "ua-blue").ok());
  auto r = detached.get();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(*r);
  EXPECT_FALSE(LiveHas("ua-blue"));
  EXPECT_THAT(dhcp_.served(), IsEmpty());
  EXPECT_THAT(env_.libvirt->call_log(), Contains("detach-alias default_vm ua-blue live|config"));
}

TEST_F(HotplugTest, DetachTimesOutWhenTheGuestKeepsTheDevice) {
  ASSERT_TRUE(hotplug_->Attach("blue").ok());
  env_.libvirt->SetGuestReleasesDevices(false);
  hotplug_->detach_timeout = absl::Milliseconds(200);
  auto r = hotplug_->Detach("blue");
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("did not release ua-blue"));
  EXPECT_TRUE(LiveHas("ua-blue"));
  EXPECT_THAT(dhcp_.served(), ElementsAre("k6t-blue"));  // the guest still has the NIC
  // The guest lets go later; detaching again finds it gone and stops DHCP.
  ASSERT_TRUE(env_.libvirt->ReleaseDevice(kDomain, "ua-blue").ok());
  env_.libvirt->WaitIdle();
  auto again = hotplug_->Detach("blue");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(*again);
  EXPECT_THAT(dhcp_.served(), IsEmpty());
}

TEST_F(HotplugTest, DetachingWhatIsNotThereChangesNothing) {
  auto r = hotplug_->Detach("blue");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(*r);
  EXPECT_EQ(env_.libvirt->calls(LibvirtCall::kDetachDeviceAlias), 0);
}

TEST_F(HotplugTest, LibvirtRefusingTheDetachKeepsDhcp) {
  ASSERT_TRUE(hotplug_->Attach("blue").ok());
  const std::string before = env_.libvirt->Dump();
  env_.libvirt->FailCall(LibvirtCall::kDetachDeviceAlias, absl::InternalError("busy"));
  auto r = hotplug_->Detach("blue");
  EXPECT_TRUE(absl::IsInternal(r.status())) << r.status();
  EXPECT_EQ(env_.libvirt->Dump(), before);
  EXPECT_THAT(dhcp_.served(), ElementsAre("k6t-blue"));
}

TEST_F(HotplugTest, NoFreeRootPortIsRefusedBeforeLibvirtIsAsked) {
  // A domain defined without spare root ports.
  launcher_.reset();
  ASSERT_TRUE(binding::RemoveCachedInterface(env_.state_dir, "blue").ok());
  env_.options.hotplug_ports = 0;
  launcher_ = env_.NewLauncher();
  ASSERT_TRUE(launcher_->Start().ok());
  hotplug_ = std::make_unique<Hotplug>(*launcher_, &dhcp_);
  env_.CachePlan(TapPlan("blue", "02:00:00:00:00:02"));
  const std::string before = env_.libvirt->Dump();
  auto r = hotplug_->Attach("blue");
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("no free PCIe root port"));
  EXPECT_EQ(env_.libvirt->calls(LibvirtCall::kAttachDevice), 0);
  EXPECT_EQ(env_.libvirt->Dump(), before);
  EXPECT_THAT(dhcp_.served(), IsEmpty());
}

TEST_F(HotplugTest, NothingIsPluggedIntoADomainThatIsNotRunning) {
  ASSERT_TRUE(env_.libvirt->StopOutside(kDomain, StopReason::kShutdown).ok());
  env_.libvirt->WaitIdle();
  auto r = hotplug_->Attach("blue");
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("not running"));
  EXPECT_THAT(dhcp_.log(), IsEmpty());
}

std::string LinkStateOf(const std::string& xml, const std::string& alias) {
  const size_t a = xml.find("<alias name='" + alias + "'/>");
  const size_t begin = xml.rfind("<interface", a);
  const std::string element = xml.substr(begin, xml.find("</interface>", a) - begin);
  return element.find("<link state='down'/>") != std::string::npos ? "down" : "up";
}

TEST_F(HotplugTest, SetLinkStateChangesTheLiveDeviceAndItsDefinition) {
  ASSERT_TRUE(hotplug_->Attach("blue").ok());
  auto down = hotplug_->SetLinkState("blue", false);
  ASSERT_TRUE(down.ok()) << down.status();
  EXPECT_TRUE(*down);
  EXPECT_EQ(LinkStateOf(env_.libvirt->LiveXml(kDomain), "ua-blue"), "down");
  EXPECT_EQ(LinkStateOf(env_.libvirt->ConfigXml(kDomain), "ua-blue"), "down");
  EXPECT_THAT(env_.libvirt->call_log(), Contains("update default_vm ua-blue live|config"));
  auto again = hotplug_->SetLinkState("blue", false);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_EQ(env_.libvirt->calls(LibvirtCall::kUpdateDevice), 1);
  auto up = hotplug_->SetLinkState("blue", true);
  ASSERT_TRUE(up.ok());
  EXPECT_TRUE(*up);
  EXPECT_EQ(LinkStateOf(env_.libvirt->LiveXml(kDomain), "ua-blue"), "up");
}

TEST_F(HotplugTest, SetLinkStateFallsBackToLiveOnlyWhenTheDefinitionRefuses) {
  ASSERT_TRUE(hotplug_->Attach("blue").ok());
  env_.libvirt->FailCall(LibvirtCall::kUpdateDevice,
                         absl::InvalidArgumentError("cannot modify network device"));
  auto r = hotplug_->SetLinkState("blue", false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(*r);
  EXPECT_EQ(LinkStateOf(env_.libvirt->LiveXml(kDomain), "ua-blue"), "down");
  EXPECT_EQ(LinkStateOf(env_.libvirt->ConfigXml(kDomain), "ua-blue"), "up");
  EXPECT_THAT(env_.libvirt->call_log(), Contains("update default_vm ua-blue live"));
}

TEST_F(HotplugTest, SetLinkStateRefusedEverywhereIsAnError) {
  ASSERT_TRUE(hotplug_->Attach("blue").ok());
  env_.libvirt->FailCall(LibvirtCall::kUpdateDevice, absl::InternalError("no"), 0);
  env_.libvirt->FailCall(LibvirtCall::kUpdateDevice, absl::InternalError("still no"), 1);
  auto r = hotplug_->SetLinkState("blue", false);
  EXPECT_TRUE(absl::IsInternal(r.status())) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("still no"));
  EXPECT_EQ(LinkStateOf(env_.libvirt->LiveXml(kDomain), "ua-blue"), "up");
}

TEST_F(HotplugTest, SetLinkStateOfAnAbsentInterfaceIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(hotplug_->SetLinkState("blue", false).status()));
}

TEST_F(HotplugTest, ReconcileAttachesPlannedInterfacesAndDetachesAbsentOnes) {
  api::Vmi vmi = env_.vmi;
  api::Interface blue;
  blue.name = "blue";
  blue.bindings = {api::BindingMethod::kBridge};
  blue.state = "down";
  vmi.spec.domain.interfaces.push_back(blue);
  std::vector<std::string> changes;
  ASSERT_TRUE(hotplug_->Reconcile(vmi, &changes).ok());
  EXPECT_THAT(changes, ElementsAre("attached blue", "link blue down"));
  EXPECT_EQ(LinkStateOf(env_.libvirt->LiveXml(kDomain), "ua-blue"), "down");
  // Again: nothing to do.
  changes.clear();
  ASSERT_TRUE(hotplug_->Reconcile(vmi, &changes).ok());
  EXPECT_THAT(changes, IsEmpty());
  // The interface marked absent goes away.
  vmi.spec.domain.interfaces.back().state = "absent";
  ASSERT_TRUE(hotplug_->Reconcile(vmi, &changes).ok());
  EXPECT_THAT(changes, ElementsAre("detached blue"));
  EXPECT_FALSE(LiveHas("ua-blue"));
  EXPECT_THAT(dhcp_.served(), Not(Contains("k6t-blue")));
}

// GetStatus and the QEMU guest agent: absent -> said so, nothing else changes; answering ->
// the guest's names and addresses merged by MAC (the pod's kept for masquerade), guest-only
// interfaces listed, loopback and link-local addresses left out.
TEST_F(HotplugTest, StatusMergesTheGuestAgentsViewOrSaysItIsAbsent) {
  auto absent = hotplug_->Status();
  ASSERT_TRUE(absent.ok()) << absent.status();
  EXPECT_THAT(absent->guest_agent, HasSubstr("not connected"));
  ASSERT_FALSE(absent->interfaces.empty());
  EXPECT_EQ(absent->interfaces[0].interface_name, "");
  EXPECT_EQ(absent->interfaces[0].info_source, "domain, multus-status");

  ASSERT_TRUE(hotplug_->Attach("blue").ok());
  env_.libvirt->SetGuestAgent(std::vector<GuestInterface>{
      {"lo", "00:00:00:00:00:00", {"127.0.0.1/8", "::1/128"}},
      {"eth0", "02:00:00:00:00:01", {"10.0.2.2/24", "fe80::1/64"}},
      {"eth1", "02:00:00:00:00:02", {"10.10.10.14/24", "fe80::2/64", "fd00::14/64"}},
      {"eth2", "02:00:00:00:00:09", {"192.168.7.7/24"}}});
  auto st = hotplug_->Status();
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->guest_agent, "connected");
  ASSERT_EQ(st->interfaces.size(), 3u);
  const api::rpc::StatusInterface& def = st->interfaces[0];
  EXPECT_EQ(def.name, "default");
  EXPECT_EQ(def.interface_name, "eth0");
  EXPECT_EQ(def.info_source, "domain, guest-agent, multus-status");
  EXPECT_THAT(def.ip_addresses, Not(Contains("10.0.2.2")));  // masquerade: the pod's
  const api::rpc::StatusInterface& blue = st->interfaces[1];
  EXPECT_EQ(blue.name, "blue");
  EXPECT_EQ(blue.interface_name, "eth1");
  EXPECT_THAT(blue.ip_addresses, ElementsAre("10.10.10.14", "fd00::14"));
  EXPECT_EQ(blue.ip_address, "10.10.10.14");
  const api::rpc::StatusInterface& extra = st->interfaces[2];
  EXPECT_EQ(extra.name, "");
  EXPECT_EQ(extra.interface_name, "eth2");
  EXPECT_EQ(extra.info_source, "guest-agent");
  EXPECT_THAT(extra.ip_addresses, ElementsAre("192.168.7.7"));

  // A hung agent: the call's own timeout; status says so.
  env_.libvirt->SetGuestAgent(absl::UnavailableError("Guest agent is not responding"));
  auto hung = hotplug_->Status();
  ASSERT_TRUE(hung.ok()) << hung.status();
  EXPECT_THAT(hung->guest_agent, HasSubstr("not responding"));
  EXPECT_EQ(hung->interfaces.size(), 2u);
}

}  // namespace
}  // namespace k6t::launcher::test
