#include "k6t/api/naming.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace k6t::api {
namespace {

// Expected values from `printf NAME | sha256sum` (coreutils), not from our own code.
TEST(NamingTest, HashedPodInterfaceNameVectors) {
  EXPECT_EQ(HashedPodInterfaceName("blue"), "pod16477688c0e");
  EXPECT_EQ(HashedPodInterfaceName("red"), "podb1f51a511f1");
  EXPECT_EQ(HashedPodInterfaceName("blue").size(), 14u);
}

TEST(NamingTest, PrimaryEth0) {
  const PodLinkNames n = DeriveLinkNames("eth0", true);
  EXPECT_EQ(n.pod, "eth0");
  EXPECT_EQ(n.bridge, "k6t-eth0");
  EXPECT_EQ(n.tap, "tap0");
  EXPECT_EQ(n.nic, "eth0-nic");
}

TEST(NamingTest, PrimaryUserDefinedNetwork) {
  const PodLinkNames n = DeriveLinkNames("ovn-udn1", true);
  EXPECT_EQ(n.bridge, "k6t-ovn-udn1");
  EXPECT_EQ(n.tap, "tap0");
  EXPECT_EQ(n.nic, "ovn-udn1-nic");
}

TEST(NamingTest, HashedSecondary) {
  const PodLinkNames n = DeriveLinkNames("pod16477688c0e", false);
  EXPECT_EQ(n.bridge, "k6t-16477688c0e");
  EXPECT_EQ(n.tap, "tap16477688c0e");
  EXPECT_EQ(n.nic, "16477688c0e-nic");
  for (const auto* s : {&n.pod, &n.bridge, &n.tap, &n.nic}) EXPECT_LE(s->size(), kMaxIfNameLen);
}

TEST(NamingTest, OrdinalSecondary) {
  const PodLinkNames n = DeriveLinkNames("net1", false);
  EXPECT_EQ(n.bridge, "k6t-net1");
  EXPECT_EQ(n.tap, "tap1");
  EXPECT_EQ(n.nic, "net1-nic");
  EXPECT_EQ(DeriveLinkNames("net12", false).tap, "tap12");
}

TEST(NamingTest, IsOrdinalName) {
  EXPECT_TRUE(IsOrdinalName("net1"));
  EXPECT_TRUE(IsOrdinalName("net42"));
  EXPECT_FALSE(IsOrdinalName("net"));
  EXPECT_FALSE(IsOrdinalName("net1a"));
  EXPECT_FALSE(IsOrdinalName("eth0"));
  EXPECT_FALSE(IsOrdinalName("pod16477688c0e"));
}

Vmi TwoSecondaries(bool multus_default) {
  Vmi v;
  Network primary;
  primary.name = "default";
  if (multus_default)
    primary.multus = MultusNetwork{"udn", true};
  else
    primary.pod = PodNetwork{};
  Network blue;
  blue.name = "blue";
  blue.multus = MultusNetwork{"blue-net", false};
  Network red;
  red.name = "red";
  red.multus = MultusNetwork{"red-net", false};
  v.spec.networks = {primary, blue, red};
  return v;
}

TEST(NamingTest, PodInterfaceNamesHashedByDefault) {
  const auto names = PodInterfaceNames(TwoSecondaries(false));
  EXPECT_EQ(names.at("default"), "eth0");
  EXPECT_EQ(names.at("blue"), "pod16477688c0e");
  EXPECT_EQ(names.at("red"), "podb1f51a511f1");
}

TEST(NamingTest, PodInterfaceNamesPrimaryFromNetworkStatus) {
  NetworkStatusEntry udn;
  udn.name = "default/udn";
  udn.interface = "ovn-udn1";
  udn.is_default = true;
  NetworkStatusEntry cluster;
  cluster.name = "ovn-kubernetes";
  cluster.interface = "eth0";
  const auto names = PodInterfaceNames(TwoSecondaries(true), {cluster, udn});
  EXPECT_EQ(names.at("default"), "ovn-udn1");
  EXPECT_EQ(names.at("blue"), "pod16477688c0e");
}

TEST(NamingTest, PodInterfaceNamesOrdinalWhenLinksShowIt) {
  const auto names = PodInterfaceNames(TwoSecondaries(false), {}, {"lo", "eth0", "net1", "net2"});
  EXPECT_EQ(names.at("default"), "eth0");
  EXPECT_EQ(names.at("blue"), "net1");
  EXPECT_EQ(names.at("red"), "net2");
}

TEST(NamingTest, PodInterfaceNamesOrdinalWhenStatusShowsIt) {
  NetworkStatusEntry e;
  e.name = "default/blue-net";
  e.interface = "net1";
  const auto names = PodInterfaceNames(TwoSecondaries(false), {e});
  EXPECT_EQ(names.at("blue"), "net1");
  EXPECT_EQ(names.at("red"), "net2");
}

TEST(NamingTest, PodInterfaceNamesTakeTheNameACallerFixed) {
  Vmi vmi = TwoSecondaries(false);
  vmi.spec.networks[1].pod_interface = "eth3";  // k6t-cni: CNI_IFNAME
  const auto names = PodInterfaceNames(vmi, {}, {"lo", "eth0", "net1"});
  EXPECT_EQ(names.at("default"), "eth0");
  EXPECT_EQ(names.at("blue"), "eth3");
  EXPECT_EQ(names.at("red"), "net1");
}

}  // namespace
}  // namespace k6t::api
