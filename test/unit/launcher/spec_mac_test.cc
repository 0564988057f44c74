// Issue 14: a MAC written in any form KubeVirt accepts (dotted, dashed, upper case) reaches
// every consumer in one canonical form: decoded from YAML, planned against a fake pod, put
// in the domain XML, and served by the launcher's DHCP path (which refused the dotted form).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "dhcp_service.h"
#include "domain_xml.h"
#include "k6t/api/decode.h"
#include "k6t/api/net.h"
#include "k6t/binding/planner.h"
#include "k6t/binding/pod_state.h"
#include "k6t/binding/testing/fake_kernel.h"
#include "k6t/dhcp/responder.h"
#include "k6t/dhcp/server.h"

namespace k6t::launcher {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kVmi[] = R"(
apiVersion: kubevirt.io/v1
kind: VirtualMachineInstance
metadata: {name: macs, namespace: ns}
spec:
  domain:
    devices:
      interfaces:
      - {name: default, masquerade: {}, macAddress: 02-00-5E-00-53-0A}
      - {name: blue, bridge: {}, macAddress: 0200.5E00.5301}
  networks:
  - {name: default, pod: {}}
  - {name: blue, multus: {networkName: blue-net}}
)";

// The pod as the CNI plugins leave it: eth0 and blue's pod16477688c0e, each with an address.
void BuildPod(binding::testing::FakeKernel& k) {
  for (const auto& [name, mac, cidr, gw] :
       {std::tuple{"eth0", "0a:58:0a:f4:00:05", "10.244.0.5/24", "10.244.0.1"},
        std::tuple{"pod16477688c0e", "0a:58:c0:a8:64:0a", "192.168.100.10/24", ""}}) {
    binding::Link l;
    l.name = name;
    l.kind = "veth";
    l.mac = mac;
    l.mtu = 1400;
    l.admin_up = l.oper_up = true;
    k.AddLink(l);
    k.AddPodAddress(name, cidr);
    if (*gw) k.AddPodRoute(name, "0.0.0.0/0", gw);
  }
}

// A DHCPDISCOVER from `mac` as a guest sends it.
::k6t::dhcp::Dhcpv4Message Discover(const api::MacAddress& mac) {
  ::k6t::dhcp::Dhcpv4Message m;
  m.xid = 0x14141414;
  std::copy(mac.bytes().begin(), mac.bytes().end(), m.chaddr.begin());
  m.options.push_back({::k6t::dhcp::opt4::kMessageType,
                       std::string(1, static_cast<char>(::k6t::dhcp::Dhcpv4Type::kDiscover))});
  return m;
}

class SpecMacTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto vmi = api::DecodeSingleVmi(kVmi, "macs.yaml");
    ASSERT_TRUE(vmi.ok()) << vmi.status();
    vmi_ = *vmi;
    BuildPod(kernel_);
    auto pod = binding::ObservePod(kernel_.kernel());
    ASSERT_TRUE(pod.ok()) << pod.status();
    pod_ = *pod;
    const std::vector<api::NetworkStatusEntry> no_status;
    auto plans = binding::PlanVmi({vmi_, no_status, pod_, binding::PlannerOptions{}});
    ASSERT_TRUE(plans.ok()) << plans.status();
    ASSERT_EQ(plans->size(), 2u);
    plans_ = *plans;
    resolv_ = ::testing::TempDir() + "/spec_mac_resolv.conf";
    std::ofstream(resolv_) << "nameserver 10.96.0.10\nsearch ns.svc.cluster.local\n";
  }

  api::Vmi vmi_;
  binding::testing::FakeKernel kernel_;
  binding::PodState pod_;
  std::vector<binding::InterfacePlan> plans_;
  std::string resolv_;
};

TEST_F(SpecMacTest, DecodeGivesTheCanonicalForm) {
  EXPECT_EQ(vmi_.spec.domain.interfaces[0].mac_address, "02:00:5e:00:53:0a");
  EXPECT_EQ(vmi_.spec.domain.interfaces[1].mac_address, "02:00:5e:00:53:01");
}

TEST_F(SpecMacTest, PlanAndDomainXmlCarryTheCanonicalForm) {
  EXPECT_EQ(plans_[0].mac, "02:00:5e:00:53:0a");
  EXPECT_EQ(plans_[1].mac, "02:00:5e:00:53:01");
  ASSERT_TRUE(plans_[1].dhcp.has_value());
  EXPECT_EQ(plans_[1].dhcp->client_mac, "02:00:5e:00:53:01");
  DomainOptions o;
  o.guest_kernel = "/var/cache/k6t/guest/vmlinuz";
  o.guest_initrd = "/var/cache/k6t/guest/initrd.cpio.gz";
  auto xml = GenerateDomainXml(vmi_, plans_, o);
  ASSERT_TRUE(xml.ok()) << xml.status();
  EXPECT_THAT(*xml, HasSubstr("<mac address='02:00:5e:00:53:0a'/>"));
  EXPECT_THAT(*xml, HasSubstr("<mac address='02:00:5e:00:53:01'/>"));
  EXPECT_THAT(*xml, Not(HasSubstr("0200.5")));
  EXPECT_THAT(*xml, Not(HasSubstr("02-00-5")));
}

TEST_F(SpecMacTest, TheLaunchersDhcpServerAcceptsAndAnswersTheInterface) {
  ::k6t::dhcp::Server server;
  for (const auto& p : plans_) {
    ASSERT_TRUE(p.dhcp.has_value()) << p.interface_name;
    // What DhcpService::Add hands the server.
    const auto plan = WithPodDns(*p.dhcp, resolv_);
    EXPECT_TRUE(server.AddInterface(plan).ok()) << p.interface_name;
    ASSERT_TRUE(plan.v4.has_value());
    auto responder = ::k6t::dhcp::Dhcpv4Responder::Create(*plan.v4, plan.client_mac);
    ASSERT_TRUE(responder.ok()) << p.interface_name << ": " << responder.status();
    const api::MacAddress guest = *api::MacAddress::Parse(p.mac);
    auto offer = responder->Respond(Discover(guest));
    ASSERT_TRUE(offer.reply.has_value()) << p.interface_name << ": " << offer.note;
    EXPECT_THAT(offer.note, HasSubstr(p.mac));
    // Bridge binding serves the pod's address to the VM's MAC only.
    if (p.binding == "bridge") {
      EXPECT_EQ(::k6t::dhcp::FormatIpv4(offer.reply->message.yiaddr), "192.168.100.10");
      auto other = responder->Respond(Discover(*api::MacAddress::Parse("02:00:5e:00:53:02")));
      EXPECT_FALSE(other.reply.has_value()) << other.note;
    }
  }
}

}  // namespace
}  // namespace k6t::launcher
