#include "k6t/api/network_status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace k6t::api {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// As Multus writes it for a pod with the cluster network, a bridge secondary and an SR-IOV VF.
constexpr char kStatus[] = R"([
  {"name": "ovn-kubernetes", "interface": "eth0", "ips": ["10.244.0.5", "fd00:10:244::5"],
   "mac": "0a:58:0a:f4:00:05", "mtu": 1400, "default": true,
   "dns": {"nameservers": ["10.96.0.10"], "domain": "cluster.local",
           "search": ["default.svc.cluster.local", "svc.cluster.local"]},
   "gateway": ["10.244.0.1"]},
  {"name": "default/blue-net", "interface": "pod16477688c0e", "ips": ["192.168.100.2"],
   "mac": "92:b3:1a:00:00:01", "dns": {}},
  {"name": "default/sriov-net", "interface": "pod2f2b2c3d4e5", "dns": {},
   "device-info": {"type": "pci", "version": "1.1.0",
     "pci": {"pci-address": "0000:65:00.2", "pf-pci-address": "0000:65:00.0",
             "vhost-net": "/dev/vhost-net", "rdma-device": "mlx5_2",
             "representor-device": "eth5"}},
   "some-future-field": 1}
])";

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

TEST(NetworkStatusTest, ParsesMultusAnnotation) {
  auto s = ParseNetworkStatus(kStatus);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->size(), 3u);
  const auto& p = (*s)[0];
  EXPECT_EQ(p.name, "ovn-kubernetes");
  EXPECT_EQ(p.interface, "eth0");
  EXPECT_THAT(p.ips, ElementsAre("10.244.0.5", "fd00:10:244::5"));
  EXPECT_EQ(p.mac, "0a:58:0a:f4:00:05");
  EXPECT_EQ(p.mtu, 1400);
  EXPECT_TRUE(p.is_default);
  EXPECT_THAT(p.dns.nameservers, ElementsAre("10.96.0.10"));
  EXPECT_EQ(p.dns.domain, "cluster.local");
  EXPECT_EQ(p.dns.search.size(), 2u);
  EXPECT_THAT(p.gateway, ElementsAre("10.244.0.1"));
  EXPECT_FALSE((*s)[1].is_default);
  EXPECT_FALSE((*s)[1].mtu);
  const auto& vf = (*s)[2];
  ASSERT_TRUE(vf.device_info);
  EXPECT_EQ(vf.device_info->type, "pci");
  EXPECT_EQ(vf.device_info->version, "1.1.0");
  ASSERT_TRUE(vf.device_info->pci);
  EXPECT_EQ(vf.device_info->pci->pci_address, "0000:65:00.2");
  EXPECT_EQ(vf.device_info->pci->pf_pci_address, "0000:65:00.0");
  EXPECT_EQ(vf.device_info->pci->vhost_net, "/dev/vhost-net");
  EXPECT_EQ(vf.device_info->pci->rdma_device, "mlx5_2");
  EXPECT_EQ(vf.device_info->pci->representor_device, "eth5");
}

TEST(NetworkStatusTest, SerializeRoundTrip) {
  auto s = ParseNetworkStatus(kStatus);
  ASSERT_TRUE(s.ok());
  const std::string text = SerializeNetworkStatus(*s);
  auto again = ParseNetworkStatus(text);
  ASSERT_TRUE(again.ok()) << again.status() << text;
  ASSERT_EQ(again->size(), s->size());
  for (size_t i = 0; i < s->size(); ++i) {
    EXPECT_EQ((*again)[i].name, (*s)[i].name);
    EXPECT_EQ((*again)[i].interface, (*s)[i].interface);
    EXPECT_EQ((*again)[i].ips, (*s)[i].ips);
    EXPECT_EQ((*again)[i].mac, (*s)[i].mac);
    EXPECT_EQ((*again)[i].mtu, (*s)[i].mtu);
    EXPECT_EQ((*again)[i].is_default, (*s)[i].is_default);
    EXPECT_EQ((*again)[i].gateway, (*s)[i].gateway);
    EXPECT_EQ((*again)[i].dns.search, (*s)[i].dns.search);
    EXPECT_EQ((*again)[i].device_info.has_value(), (*s)[i].device_info.has_value());
  }
  EXPECT_THAT(text, HasSubstr("\"pci-address\":\"0000:65:00.2\""));
  EXPECT_EQ(SerializeNetworkStatus({}), "[]");
}

TEST(NetworkStatusTest, RejectsBadValuesNamingEntryAndField) {
  constexpr char kBad[] = R"([
    {"name": "a", "ips": ["10.0.0.1"]},
    {"name": "b"},
    {"name": "c", "ips": ["10.0.0.300"], "mac": "zz:zz", "mtu": 70000,
     "gateway": ["nope"], "dns": {"nameservers": ["1.2.3"]},
     "device-info": {"type": "pci", "pci": {"pci-address": "65:00.2"}}},
    {"interface": "averyveryverylongname", "default": "yes"},
    7
  ])";
  auto s = ParseNetworkStatus(kBad);
  ASSERT_FALSE(s.ok());
  const std::string m = Msg(s.status());
  EXPECT_THAT(m, HasSubstr("[2].ips[0]: \"10.0.0.300\" is not an IP address"));
  EXPECT_THAT(m, HasSubstr("[2].mac: \"zz:zz\" is not a MAC address"));
  EXPECT_THAT(m, HasSubstr("[2].mtu: 70000 is not in 0..65535"));
  EXPECT_THAT(m, HasSubstr("[2].gateway[0]: \"nope\" is not an IP address"));
  EXPECT_THAT(m, HasSubstr("[2].dns.nameservers[0]: \"1.2.3\" is not an IP address"));
  EXPECT_THAT(m, HasSubstr("[2].device-info.pci.pci-address: \"65:00.2\" is not a PCI address"));
  EXPECT_THAT(m, HasSubstr("[3].name: required"));
  EXPECT_THAT(m, HasSubstr("[3].interface: \"averyveryverylongname\" is longer than IFNAMSIZ-1"));
  EXPECT_THAT(m, HasSubstr("[3].default: expected a boolean, got string \"yes\""));
  EXPECT_THAT(m, HasSubstr("[4]: expected an object, got number 7"));
}

TEST(NetworkStatusTest, RejectsMalformedDocuments) {
  for (const char* bad : {"", "{", "{}", "\"x\"", "[1,", "null", "\xff\xfe"}) {
    auto s = ParseNetworkStatus(bad);
    EXPECT_FALSE(s.ok()) << bad;
  }
  EXPECT_TRUE(ParseNetworkStatus("[]").ok());
}

TEST(NetworkStatusTest, Bounds) {
  std::string big = "[" + std::string(2 << 20, ' ') + "]";
  auto a = ParseNetworkStatus(big);
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(Msg(a.status()), HasSubstr("more than the limit"));
  std::string many = "[";
  for (int i = 0; i < 300; ++i) many += std::string(i ? "," : "") + "{\"name\":\"n\"}";
  many += "]";
  auto b = ParseNetworkStatus(many);
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(Msg(b.status()), HasSubstr("300 entries, more than 256"));
  std::string deep = std::string(10000, '[') + std::string(10000, ']');
  auto c = ParseNetworkStatus(deep);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(Msg(c.status()), HasSubstr("nested deeper"));
}

TEST(NetworkInfoTest, ParsesDownwardApiFile) {
  auto s = ParseNetworkInfo(R"({"interfaces":[
      {"network":"sriov-net","deviceInfo":{"type":"pci","version":"1.1.0",
        "pci":{"pci-address":"0000:65:00.2"}},"mac":"02:00:00:00:00:aa"},
      {"network":"blue"}]})");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->size(), 2u);
  EXPECT_EQ((*s)[0].network, "sriov-net");
  ASSERT_TRUE((*s)[0].device_info && (*s)[0].device_info->pci);
  EXPECT_EQ((*s)[0].device_info->pci->pci_address, "0000:65:00.2");
  EXPECT_EQ((*s)[0].mac, "02:00:00:00:00:aa");
  EXPECT_FALSE((*s)[1].device_info);
  auto empty = ParseNetworkInfo("{}");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(NetworkInfoTest, RejectsBadInput) {
  auto a = ParseNetworkInfo(R"({"interfaces":[{"deviceInfo":{"pci":{"pci-address":"bad"}}}]})");
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(Msg(a.status()), HasSubstr("interfaces[0].network: required"));
  EXPECT_THAT(Msg(a.status()),
              HasSubstr("interfaces[0].deviceInfo.pci.pci-address: \"bad\" is not a PCI address"));
  EXPECT_FALSE(ParseNetworkInfo("[]").ok());
  EXPECT_FALSE(ParseNetworkInfo(R"({"interfaces": 3})").ok());
  EXPECT_FALSE(ParseNetworkInfo("").ok());
}

}  // namespace
}  // namespace k6t::api
