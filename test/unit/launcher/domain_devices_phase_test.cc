// Phase "devices" of the domain XML: the NICs' order and root ports, passt's numbering,
// the hotplug root-port policy, and <devices> in libvirt's order.
#include "domain/devices.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace k6t::launcher {
namespace {

using ::testing::HasSubstr;

api::Interface Iface(const std::string& name) {
  api::Interface i;
  i.name = name;
  return i;
}

binding::InterfacePlan Tap(const std::string& name) {
  binding::InterfacePlan p;
  p.interface_name = name;
  p.device = binding::GuestDevice{};
  p.device->alias = "ua-" + name;
  p.device->tap = "tap-" + name;
  p.device->model = "virtio-non-transitional";
  return p;
}

binding::InterfacePlan Passt(const std::string& name) {
  binding::InterfacePlan p = Tap(name);
  p.device->kind = binding::DeviceKind::kPasst;
  p.device->tap.clear();
  p.passt = binding::PasstPlan{"eth0", {}, 0};
  return p;
}

std::vector<std::string> Names(const NicLayout& l) {
  std::vector<std::string> out;
  for (const auto& n : l.nics) out.push_back(n.plan->interface_name);
  return out;
}

TEST(DevicesPhase, NicsInTheVmisOrderThenTheRest) {
  api::Vmi vmi;
  vmi.spec.domain.interfaces = {Iface("default"), Iface("blue"), Iface("red")};
  vmi.spec.domain.interfaces[2].state = "absent";  // needs no plan
  // Plans come sorted by name (the cache's order); "extra" is not in the VMI.
  const std::vector<binding::InterfacePlan> plans = {Tap("blue"), Tap("default"), Tap("extra")};
  auto l = LayOutNics(vmi, plans, DomainOptions{});
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_THAT(Names(*l), ::testing::ElementsAre("default", "blue", "extra"));
  EXPECT_EQ(l->root_ports, 3);

  vmi.spec.domain.interfaces[2].state.clear();
  auto missing = LayOutNics(vmi, plans, DomainOptions{});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("interface \"red\" has no cached plan"));
}

TEST(DevicesPhase, PasstNicsAreNumberedAndTakeNoRootPort) {
  api::Vmi vmi;
  vmi.spec.domain.interfaces = {Iface("a"), Iface("b"), Iface("c")};
  const std::vector<binding::InterfacePlan> plans = {Passt("a"), Tap("b"), Passt("c")};
  DomainOptions o;
  o.passt_sockets = {{"a", "/s/a.sock"}, {"c", "/s/c.sock"}};
  o.vhost_net = true;
  auto l = LayOutNics(vmi, plans, o);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->root_ports, 1);
  EXPECT_EQ(l->nics[0].context.passt_socket, "/s/a.sock");
  EXPECT_EQ(l->nics[0].context.passt_index, 0);
  EXPECT_EQ(l->nics[2].context.passt_socket, "/s/c.sock");
  EXPECT_EQ(l->nics[2].context.passt_index, 1);
  EXPECT_TRUE(l->nics[1].context.vhost_net);
  // libvirt's own passt backend: ordinary <interface>s on root ports, no sockets.
  o.native_passt = true;
  EXPECT_EQ(LayOutNics(vmi, plans, o)->root_ports, 3);
}

TEST(DevicesPhase, RootPortsForHotplug) {
  DomainOptions o;
  EXPECT_EQ(RootPorts(1, 256 << 20, o), 1 + 7);
  EXPECT_EQ(RootPorts(2, int64_t{4} << 30, o), 2 + 14);
  EXPECT_EQ(RootPorts(29, 256 << 20, o), 30);  // never more than 30
  o.hotplug_ports = 0;
  EXPECT_EQ(RootPorts(1, 256 << 20, o), 1);
  o.hotplug_ports = 50;
  EXPECT_EQ(RootPorts(2, 256 << 20, o), 30);
}

TEST(DevicesPhase, DevicesInLibvirtsOrder) {
  StorageLayout storage;
  storage.disks = {DiskDevice{.name = "root",
                              .device = "disk",
                              .path = "/i/root.img",
                              .format = "raw",
                              .bus = "scsi",
                              .target = "sda"}};
  storage.virtio_scsi = true;
  NicLayout nics;
  const binding::InterfacePlan tap = Tap("default");
  nics.nics = {{&tap, {}}};
  DomainOptions o;
  o.emulator = "/usr/bin/qemu";
  o.guest_agent_socket = "/run/qga.sock";
  domxml::XmlDocument doc("domain");
  ASSERT_TRUE(AppendDevices(doc.root(), storage, nics, 2, o).ok());
  EXPECT_EQ(doc.Emit(),
            "<domain>\n"
            "  <devices>\n"
            "    <emulator>/usr/bin/qemu</emulator>\n"
            "    <controller type='pci' index='0' model='pcie-root'/>\n"
            "    <controller type='pci' index='1' model='pcie-root-port'/>\n"
            "    <controller type='pci' index='2' model='pcie-root-port'/>\n"
            "    <controller type='usb' model='none'/>\n"
            "    <controller type='scsi' model='virtio-scsi'/>\n"
            "    <controller type='virtio-serial' index='0'/>\n"
            "    <disk type='file' device='disk'>\n"
            "      <driver name='qemu' type='raw'/>\n"
            "      <source file='/i/root.img'/>\n"
            "      <target dev='sda' bus='scsi'/>\n"
            "      <alias name='ua-root'/>\n"
            "    </disk>\n"
            "    <interface type='ethernet'>\n"
            "      <target dev='tap-default' managed='no'/>\n"
            "      <model type='virtio-non-transitional'/>\n"
            "      <rom enabled='no'/>\n"
            "      <alias name='ua-default'/>\n"
            "    </interface>\n"
            "    <serial type='pty'>\n"
            "      <target port='0'/>\n"
            "    </serial>\n"
            "    <console type='pty'>\n"
            "      <target type='serial' port='0'/>\n"
            "    </console>\n"
            "    <channel type='unix'>\n"
            "      <source mode='bind' path='/run/qga.sock'/>\n"
            "      <target type='virtio' name='org.qemu.guest_agent.0'/>\n"
            "    </channel>\n"
            "    <memballoon model='none'/>\n"
            "  </devices>\n"
            "</domain>\n");
}

TEST(DevicesPhase, ANicThatCannotBeEmittedStopsTheDomain) {
  NicLayout nics;
  binding::InterfacePlan old = Tap("default");
  old.device.reset();
  nics.nics = {{&old, {}}};
  domxml::XmlDocument doc("domain");
  auto st = AppendDevices(doc.root(), StorageLayout{}, nics, 1, DomainOptions{});
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(st.message(), HasSubstr("\"default\""));
}

}  // namespace
}  // namespace k6t::launcher
