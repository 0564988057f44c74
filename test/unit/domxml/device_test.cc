// The one emitter of plan devices: each kind, with every field it carries, as libvirt (or
// QEMU, for passt's own NIC) gets it; and the errors that name the interface.
#include "k6t/domxml/device.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace k6t::domxml {
namespace {

using binding::DeviceKind;
using binding::GuestDevice;
using binding::InterfacePlan;
using ::testing::HasSubstr;
using ::testing::Not;

InterfacePlan Plan(const std::string& name, GuestDevice d) {
  InterfacePlan p;
  p.interface_name = name;
  p.binding = "test";
  p.device = std::move(d);
  return p;
}

GuestDevice Tap() {
  GuestDevice d;
  d.kind = DeviceKind::kTap;
  d.alias = "ua-default";
  d.mac = "02:aa:bb:cc:dd:01";
  d.model = "virtio-non-transitional";
  d.tap = "tap0";
  d.mtu = 1400;
  return d;
}

InterfacePlan Passt(const std::string& name, const std::string& mac) {
  GuestDevice d;
  d.kind = DeviceKind::kPasst;
  d.alias = "ua-" + name;
  d.mac = mac;
  d.model = "virtio";
  d.mtu = 1450;
  InterfacePlan p = Plan(name, d);
  p.passt = binding::PasstPlan{"eth0", {{"udp", 53}, {"tcp", 8080}, {"tcp", 22}}, 1450};
  return p;
}

TEST(DeviceXmlTest, TapNicAsKubeVirtDefinesIt) {
  auto xml = PlanDeviceXml(Plan("default", Tap()), {});
  ASSERT_TRUE(xml.ok()) << xml.status();
  EXPECT_EQ(*xml,
            "<interface type='ethernet'>\n"
            "  <mac address='02:aa:bb:cc:dd:01'/>\n"
            "  <target dev='tap0' managed='no'/>\n"
            "  <model type='virtio-non-transitional'/>\n"
            "  <mtu size='1400'/>\n"
            "  <rom enabled='no'/>\n"
            "  <alias name='ua-default'/>\n"
            "</interface>\n");
}

TEST(DeviceXmlTest, TapNicWithEverySpecField) {
  GuestDevice d = Tap();
  d.queues = 4;
  d.vhost = true;
  d.link_up = false;
  d.boot_order = 2;
  d.guest_pci_address = "0000:81:01.0";
  d.acpi_index = 3;
  DeviceContext host;
  host.vhost_net = true;
  auto xml = PlanDeviceXml(Plan("blue", d), host);
  ASSERT_TRUE(xml.ok()) << xml.status();
  EXPECT_EQ(*xml,
            "<interface type='ethernet'>\n"
            "  <mac address='02:aa:bb:cc:dd:01'/>\n"
            "  <target dev='tap0' managed='no'/>\n"
            "  <model type='virtio-non-transitional'/>\n"
            "  <driver name='vhost' queues='4'/>\n"
            "  <mtu size='1400'/>\n"
            "  <link state='down'/>\n"
            "  <boot order='2'/>\n"
            "  <alias name='ua-default'/>\n"
            "  <address type='pci' domain='0x0000' bus='0x81' slot='0x01' function='0x0'/>\n"
            "  <acpi index='3'/>\n"
            "</interface>\n");
  // Without /dev/vhost-net, QEMU's own backend with the same queues.
  auto no_vhost = PlanDeviceXml(Plan("blue", d), {});
  ASSERT_TRUE(no_vhost.ok());
  EXPECT_THAT(*no_vhost, HasSubstr("<driver name='qemu' queues='4'/>"));
  // One queue: no driver element, vhost or not.
  d.queues = 1;
  EXPECT_THAT(*PlanDeviceXml(Plan("blue", d), host), Not(HasSubstr("<driver")));
}

TEST(DeviceXmlTest, VfHostdev) {
  GuestDevice d;
  d.kind = DeviceKind::kHostdev;
  d.alias = "ua-sriov-vf";
  d.host_pci_address = "0000:65:00.2";
  d.boot_order = 1;
  d.guest_pci_address = "0000:07:00.0";
  auto xml = PlanDeviceXml(Plan("vf", d), {});
  ASSERT_TRUE(xml.ok()) << xml.status();
  EXPECT_EQ(*xml,
            "<hostdev mode='subsystem' type='pci' managed='no'>\n"
            "  <source>\n"
            "    <address domain='0x0000' bus='0x65' slot='0x00' function='0x2'/>\n"
            "  </source>\n"
            "  <boot order='1'/>\n"
            "  <alias name='ua-sriov-vf'/>\n"
            "  <address type='pci' domain='0x0000' bus='0x07' slot='0x00' function='0x0'/>\n"
            "</hostdev>\n");
}

TEST(DeviceXmlTest, MalformedOrMissingPartsNameTheInterface) {
  GuestDevice vf;
  vf.kind = DeviceKind::kHostdev;
  vf.alias = "ua-sriov-vf";
  for (const char* bad : {"0000:65:00", "0000:65:00.8", "000g:65:00.2", "0000-65:00.2", ""}) {
    vf.host_pci_address = bad;
    auto xml = PlanDeviceXml(Plan("vf", vf), {});
    ASSERT_FALSE(xml.ok()) << bad;
    EXPECT_EQ(xml.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(xml.status().message(), HasSubstr("interface \"vf\""));
  }
  GuestDevice tap = Tap();
  tap.tap.clear();
  EXPECT_EQ(PlanDeviceXml(Plan("x", tap), {}).status().code(), absl::StatusCode::kInvalidArgument);
  InterfacePlan old;
  old.interface_name = "red";
  old.binding = "bridge";
  auto none = PlanDeviceXml(old, {});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(none.status().message(), HasSubstr("\"red\" (binding bridge)"));
  XmlDocument doc("domain");
  EXPECT_FALSE(AppendPlanDevice(doc.root(), old, {}).ok());
}

TEST(DeviceXmlTest, PasstThroughQemusCommandLine) {
  XmlDocument doc("domain");
  doc.root().Set("type", "qemu");
  DeviceContext c;
  c.passt_socket = "/run/k6t/a,b/passt/default.sock";
  ASSERT_TRUE(AppendPlanDevice(doc.root(), Passt("default", "02:00:00:00:00:03"), c).ok());
  c.passt_socket = "/run/k6t/vm/passt/second.sock";
  c.passt_index = 1;
  ASSERT_TRUE(AppendPlanDevice(doc.root(), Passt("second", "02:00:00:00:00:04"), c).ok());
  EXPECT_EQ(doc.Emit(),
            "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
            "  <qemu:commandline>\n"
            "    <qemu:arg value='-netdev'/>\n"
            "    <qemu:arg value='stream,id=k6tpasst0,server=off,addr.type=unix,"
            "addr.path=/run/k6t/a,,b/passt/default.sock'/>\n"
            "    <qemu:arg value='-device'/>\n"
            "    <qemu:arg value='virtio-net-pci,netdev=k6tpasst0,mac=02:00:00:00:00:03,"
            "romfile=,bus=pcie.0,addr=0x1e,host_mtu=1450'/>\n"
            "    <qemu:arg value='-netdev'/>\n"
            "    <qemu:arg value='stream,id=k6tpasst1,server=off,addr.type=unix,"
            "addr.path=/run/k6t/vm/passt/second.sock'/>\n"
            "    <qemu:arg value='-device'/>\n"
            "    <qemu:arg value='virtio-net-pci,netdev=k6tpasst1,mac=02:00:00:00:00:04,"
            "romfile=,bus=pcie.0,addr=0x1d,host_mtu=1450'/>\n"
            "  </qemu:commandline>\n"
            "</domain>\n");
  EXPECT_FALSE(OnRootPort(*Passt("x", "").device, c));

  // No socket, or one passt NIC too many: refused, naming the interface.
  auto no_socket = AppendPlanDevice(doc.root(), Passt("third", ""), {});
  EXPECT_EQ(no_socket.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(no_socket.message(), HasSubstr("\"third\" uses passt"));
  c.passt_index = kMaxPasstNics;
  EXPECT_EQ(AppendPlanDevice(doc.root(), Passt("ninth", ""), c).code(),
            absl::StatusCode::kInvalidArgument);
  // Not a libvirt device: hotplug cannot attach it.
  auto attach = PlanDeviceXml(Passt("default", ""), {});
  EXPECT_EQ(attach.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(DeviceXmlTest, PasstWhereLibvirtHasTheBackend) {
  DeviceContext native;
  native.native_passt = true;
  EXPECT_TRUE(OnRootPort(*Passt("x", "").device, native));
  auto xml = PlanDeviceXml(Passt("default", "02:00:00:00:00:03"), native);
  ASSERT_TRUE(xml.ok()) << xml.status();
  EXPECT_EQ(*xml,
            "<interface type='vhostuser'>\n"
            "  <mac address='02:00:00:00:00:03'/>\n"
            "  <source dev='eth0'/>\n"
            "  <model type='virtio'/>\n"
            "  <backend type='passt'/>\n"
            "  <portForward proto='tcp'>\n"
            "    <range start='8080'/>\n"
            "    <range start='22'/>\n"
            "  </portForward>\n"
            "  <portForward proto='udp'>\n"
            "    <range start='53'/>\n"
            "  </portForward>\n"
            "  <alias name='ua-default'/>\n"
            "</interface>\n");
  InterfacePlan all = Passt("default", "02:00:00:00:00:03");
  all.passt->forwards.clear();
  EXPECT_THAT(*PlanDeviceXml(all, native),
              HasSubstr("<portForward proto='tcp'/>\n  <portForward proto='udp'/>\n"));
}

TEST(DeviceXmlTest, AliasOfAPlan) {
  EXPECT_EQ(PlanDeviceAlias(Plan("blue", Tap())), "ua-default");
  InterfacePlan none;
  none.interface_name = "blue";
  EXPECT_EQ(PlanDeviceAlias(none), "ua-blue");
}

}  // namespace
}  // namespace k6t::domxml
