// The live-domain reader hotplug relies on: devices by alias, free pcie-root-ports, and the
// link-state edit of one <interface> element, on XML shaped as libvirt 9 prints it.
#include "domain_devices.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace k6t::launcher {
namespace {

using ::testing::HasSubstr;

// Four root ports (indexes 1-4); eth0 sits behind port 1, an SR-IOV VF behind port 3, so
// ports 2 and 4 are free. The hostdev's <source><address> is a host address and must not
// count as a guest bus.
constexpr char kLive[] = R"(<domain type='qemu' id='1'>
  <name>default_vm</name>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='pci' index='0' model='pcie-root'>
      <alias name='pcie.0'/>
    </controller>
    <controller type='pci' index='1' model='pcie-root-port'>
      <model name='pcie-root-port'/>
      <target chassis='1' port='0x8'/>
      <alias name='pci.1'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0' multifunction='on'/>
    </controller>
    <controller type='pci' index='2' model='pcie-root-port'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x1'/>
    </controller>
    <controller type='pci' index='3' model='pcie-root-port'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x2'/>
    </controller>
    <controller type='pci' index='4' model='pcie-root-port'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x3'/>
    </controller>
    <!-- a comment with <interface> in it -->
    <interface type='ethernet'>
      <mac address='02:aa:bb:cc:dd:01'/>
      <target dev='tap0' managed='no'/>
      <model type='virtio-non-transitional'/>
      <driver name='qemu' queues='4'/>
      <mtu size='1400'/>
      <alias name='ua-default'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </interface>
    <interface type='ethernet'>
      <mac address='02:aa:bb:cc:dd:02'/>
      <target dev='tap16477688c0e' managed='no'/>
      <model type='virtio-non-transitional'/>
      <link state='down'/>
      <alias name='ua-blue'/>
      <address type="pci" domain="0x0000" bus="0x02" slot="0x00" function="0x0"/>
    </interface>
    <hostdev mode='subsystem' type='pci' managed='no'>
      <source>
        <address domain='0x0000' bus='0x04' slot='0x00' function='0x2'/>
      </source>
      <alias name='ua-sriov-red&amp;co'/>
      <address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>
    </hostdev>
  </devices>
</domain>
)";

TEST(ParseLiveDomainTest, DevicesByAliasWithTheirAttributes) {
  auto d = ParseLiveDomain(kLive);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->devices.size(), 3u);
  const LiveDevice* eth0 = d->FindAlias("ua-default");
  ASSERT_NE(eth0, nullptr);
  EXPECT_EQ(eth0->kind, "interface");
  EXPECT_EQ(eth0->mac, "02:aa:bb:cc:dd:01");
  EXPECT_EQ(eth0->target, "tap0");
  EXPECT_EQ(eth0->model, "virtio-non-transitional");
  EXPECT_EQ(eth0->link_state, "up");
  EXPECT_EQ(eth0->queues, 4);
  const LiveDevice* blue = d->FindAlias("ua-blue");
  ASSERT_NE(blue, nullptr);
  EXPECT_EQ(blue->link_state, "down");
  EXPECT_EQ(blue->queues, 1);
  const LiveDevice* vf = d->FindAlias("ua-sriov-red&co");
  ASSERT_NE(vf, nullptr);
  EXPECT_EQ(vf->kind, "hostdev");
  EXPECT_EQ(vf->target, "");
  EXPECT_EQ(d->FindAlias("ua-nope"), nullptr);
  EXPECT_EQ(d->FindAlias(""), nullptr);
}

TEST(ParseLiveDomainTest, CountsRootPortsWithNothingBehindThem) {
  auto d = ParseLiveDomain(kLive);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->root_ports, 4);
  // Ports 1, 2 and 3 carry eth0, blue and the VF; the VF's host address (bus 0x04) does not
  // occupy port 4.
  EXPECT_EQ(d->free_root_ports, 1);
}

TEST(ParseLiveDomainTest, ElementIsTheWholeDevice) {
  auto d = ParseLiveDomain(kLive);
  ASSERT_TRUE(d.ok());
  const LiveDevice* blue = d->FindAlias("ua-blue");
  EXPECT_EQ(blue->element,
            "<interface type='ethernet'>\n"
            "  <mac address='02:aa:bb:cc:dd:02'/>\n"
            "  <target dev='tap16477688c0e' managed='no'/>\n"
            "  <model type='virtio-non-transitional'/>\n"
            "  <link state='down'/>\n"
            "  <alias name='ua-blue'/>\n"
            "  <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>\n"
            "</interface>\n");
  EXPECT_THAT(d->FindAlias("ua-sriov-red&co")->element, HasSubstr("name='ua-sriov-red&amp;co'"));
}

TEST(ParseLiveDomainTest, RejectsWhatIsNotADomain) {
  EXPECT_FALSE(ParseLiveDomain("").ok());
  EXPECT_FALSE(ParseLiveDomain("<domain><devices></domain>").ok());
  EXPECT_FALSE(ParseLiveDomain("<domain a='1>").ok());
  EXPECT_FALSE(ParseLiveDomain("<network/>").ok());
  EXPECT_TRUE(ParseLiveDomain("<domain/>").ok());
}

TEST(WithLinkStateTest, ReplacesOrAddsTheLinkElement) {
  const std::string down =
      "<interface type='ethernet'><mac address='02:00:00:00:00:01'/><link state='down'/>"
      "<alias name='ua-x'/></interface>";
  auto up = WithLinkState(down, true);
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_EQ(*up,
            "<interface type='ethernet'>\n  <mac address='02:00:00:00:00:01'/>\n"
            "  <link state='up'/>\n  <alias name='ua-x'/>\n</interface>\n");

  const std::string none = "<interface type='ethernet'><alias name='ua-x'/></interface>";
  auto added = WithLinkState(none, false);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(*added,
            "<interface type='ethernet'>\n  <alias name='ua-x'/>\n  <link state='down'/>\n"
            "</interface>\n");
  // Not an interface, or not XML: an error, nothing to send libvirt.
  EXPECT_FALSE(WithLinkState("<hostdev/>", false).ok());
  EXPECT_FALSE(WithLinkState("<interface>", false).ok());
}

}  // namespace
}  // namespace k6t::launcher
