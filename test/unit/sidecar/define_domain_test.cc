// OnDefineDomain's rewrite on a pod k6t plumbed (sidecar_test_pod.h): the k6t interfaces get
// exactly the device k6t planned when it plumbed them, every other byte of the domain stays,
// a second call changes nothing, and what cannot be understood is refused whole.
#include "define_domain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "k6t/domxml/device.h"
#include "k6t/domxml/xml.h"
#include "sidecar_test_pod.h"

namespace k6t::sidecar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::PlumbPod;
using testing::ReadTestdata;

// The devices of `xml` not carrying one of `aliases`, each as the emitter writes it, and the
// rest of the document (devices removed) likewise.
std::vector<std::string> OtherDevices(const std::string& xml,
                                      const std::set<std::string>& aliases) {
  auto doc = domxml::ParseXml(xml, "test");
  EXPECT_TRUE(doc.ok()) << doc.status();
  std::vector<std::string> out;
  for (auto& d : doc->root().Child("devices").Children()) {
    if (aliases.count(d.Child("alias").Attr("name"))) continue;
    out.push_back(d.Emit());
  }
  doc->root().Child("devices").Remove();
  out.push_back(doc->Emit());
  return out;
}

// `xml` (libvirt's layout) without the <interface> blocks naming one of `aliases`, and the
// place of each marked.
std::string WithoutInterfaces(const std::string& xml, const std::set<std::string>& aliases) {
  std::string out, block;
  bool in_block = false;
  for (const auto& line : absl::StrSplit(xml, '\n')) {
    const std::string l(line);
    if (!in_block && absl::StrContains(l, "<interface ")) in_block = true;
    if (!in_block) {
      absl::StrAppend(&out, l, "\n");
      continue;
    }
    absl::StrAppend(&block, l, "\n");
    if (!absl::StrContains(l, "</interface>")) continue;
    bool ours = false;
    for (const auto& a : aliases) ours = ours || absl::StrContains(block, "'" + a + "'");
    absl::StrAppend(&out, ours ? "[k6t interface]\n" : block);
    block.clear();
    in_block = false;
  }
  return out;
}

std::string DeviceWithAlias(const std::string& xml, const std::string& alias) {
  auto doc = domxml::ParseXml(xml, "test");
  EXPECT_TRUE(doc.ok()) << doc.status();
  for (auto& d : doc->root().Child("devices").Children())
    if (d.Child("alias").Attr("name") == alias) return d.Emit();
  return "";
}

class DefineDomainTest : public ::testing::Test {
 protected:
  absl::StatusOr<DefinedDomain> Define(const std::string& domain, const std::string& vmi) {
    return DefineDomain(domain, vmi, options_, pod_.Observer());
  }

  std::string vmi_ = ReadTestdata("vmi.json");
  std::string domain_ = ReadTestdata("domain.xml");
  DefineDomainOptions options_;
  testing::PluggedPod pod_ = PlumbPod(vmi_);
};

TEST_F(DefineDomainTest, K6tInterfacesGetTheDeviceK6tPlumbedFor) {
  auto out = Define(domain_, vmi_);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->plans.size(), 2u);
  ASSERT_EQ(pod_.cni_plans.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    // Planned from the plumbed pod, the device is the one planned before plumbing.
    ASSERT_TRUE(out->plans[i].device);
    EXPECT_EQ(*out->plans[i].device, *pod_.cni_plans[i].device)
        << binding::Describe(*out->plans[i].device) << " vs "
        << binding::Describe(*pod_.cni_plans[i].device);
    domxml::DeviceContext vhost;
    vhost.vhost_net = true;  // the converter's devices asked for vhost
    auto want = domxml::PlanDeviceXml(pod_.cni_plans[i], vhost);
    ASSERT_TRUE(want.ok()) << want.status();
    EXPECT_EQ(DeviceWithAlias(out->domain_xml, "ua-" + pod_.cni_plans[i].interface_name), *want);
  }
  const std::string blue = DeviceWithAlias(out->domain_xml, "ua-blue");
  EXPECT_THAT(blue, HasSubstr("<interface type='ethernet'>"));
  EXPECT_THAT(blue, HasSubstr("<target dev='tap16477688c0e' managed='no'/>"));
  // Bridge binding: the guest takes the pod link's MAC and MTU (BuildPod's blue link).
  EXPECT_THAT(blue, HasSubstr("<mac address='0a:58:c0:a8:64:0a'/>"));
  EXPECT_THAT(blue, HasSubstr("<mtu size='1500'/>"));
  const std::string def = DeviceWithAlias(out->domain_xml, "ua-default");
  EXPECT_THAT(def, HasSubstr("<target dev='tap0' managed='no'/>"));
  EXPECT_THAT(def, HasSubstr("<mtu size='1400'/>"));
  // DHCP offers what k6t-cni planned: masquerade's whole offer; bridge's address, subnet,
  // MTU and server (the routes through the pod link are gone once k6t-cni moved its address:
  // sidecar/README.md, "Limits").
  ASSERT_TRUE(out->plans[0].dhcp && out->plans[0].dhcp->v4 && pod_.cni_plans[0].dhcp->v4);
  const auto& masq = *out->plans[0].dhcp->v4;
  const auto& masq_cni = *pod_.cni_plans[0].dhcp->v4;
  EXPECT_EQ(masq.client_ip, "10.0.2.2");
  EXPECT_EQ(std::tie(masq.client_ip, masq.server_ip, masq.router, masq.prefix_len, masq.mtu),
            std::tie(masq_cni.client_ip, masq_cni.server_ip, masq_cni.router, masq_cni.prefix_len,
                     masq_cni.mtu));
  ASSERT_TRUE(out->plans[1].dhcp && out->plans[1].dhcp->v4 && pod_.cni_plans[1].dhcp->v4);
  const auto& got = *out->plans[1].dhcp->v4;
  const auto& want = *pod_.cni_plans[1].dhcp->v4;
  EXPECT_EQ(got.client_ip, "192.168.100.10");
  EXPECT_EQ(got.client_ip, want.client_ip);
  EXPECT_EQ(got.prefix_len, want.prefix_len);
  EXPECT_EQ(got.mtu, want.mtu);
  EXPECT_EQ(got.server_ip, want.server_ip);
  EXPECT_EQ(out->plans[1].dhcp->bridge, pod_.cni_plans[1].dhcp->bridge);
  EXPECT_EQ(out->plans[1].dhcp->client_mac, pod_.cni_plans[1].dhcp->client_mac);
}

TEST_F(DefineDomainTest, EveryOtherDeviceAndElementIsUntouched) {
  auto out = Define(domain_, vmi_);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(OtherDevices(out->domain_xml, {"ua-default", "ua-blue"}),
            OtherDevices(domain_, {"ua-default", "ua-blue"}));
  // A domain in libvirt's own layout keeps every other byte, in place: with the two k6t
  // <interface> blocks cut out, input and output are the same text.
  const std::string libvirt_style = domxml::ParseXml(domain_, "test")->Emit();
  auto again = Define(libvirt_style, vmi_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(WithoutInterfaces(again->domain_xml, {"ua-default", "ua-blue"}),
            WithoutInterfaces(libvirt_style, {"ua-default", "ua-blue"}));
  EXPECT_NE(again->domain_xml, libvirt_style);
  EXPECT_LT(again->domain_xml.find("ua-default"), again->domain_xml.find("ua-blue"));
  EXPECT_LT(again->domain_xml.find("ua-blue"), again->domain_xml.find("ua-ext"));
}

TEST_F(DefineDomainTest, SecondCallOnItsOwnOutputChangesNothing) {
  auto first = Define(domain_, vmi_);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = Define(first->domain_xml, vmi_);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->domain_xml, first->domain_xml);
}

TEST_F(DefineDomainTest, DeviceTheConverterLeftOutIsAddedOnce) {
  // A plugin without domainAttachmentType: KubeVirt emits no <interface> for it.
  auto doc = domxml::ParseXml(domain_, "test");
  for (auto& d : doc->root().Child("devices").Children())
    if (d.Child("alias").Attr("name") == "ua-blue") d.Remove();
  auto first = Define(doc->Emit(), vmi_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_THAT(DeviceWithAlias(first->domain_xml, "ua-blue"),
              HasSubstr("<target dev='tap16477688c0e' managed='no'/>"));
  auto second = Define(first->domain_xml, vmi_);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->domain_xml, first->domain_xml);
}

TEST_F(DefineDomainTest, WithoutVhostTheNicGetsQemusBackend) {
  const std::string no_vhost =
      absl::StrReplaceAll(domain_, {{"<driver name=\"vhost\"></driver>", ""}});
  auto out = Define(no_vhost, vmi_);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(DeviceWithAlias(out->domain_xml, "ua-blue"), Not(HasSubstr("vhost")));
  auto again = Define(out->domain_xml, vmi_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->domain_xml, out->domain_xml);
}

TEST_F(DefineDomainTest, NoInterfaceOfOursReturnsTheDomainByteForByte) {
  const std::string vmi = absl::StrReplaceAll(
      vmi_, {{"\"k6t-masquerade\"", "\"other\""}, {"\"k6t-bridge\"", "\"other\""}});
  auto out = Define(domain_, vmi);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->domain_xml, domain_);
  EXPECT_TRUE(out->plans.empty());
}

TEST(DefineDomainSpecTest, TheSpecsMacQueuesBootOrderPciAndAcpiReachTheDevice) {
  const std::string vmi = absl::StrReplaceAll(
      ReadTestdata("vmi.json"),
      {{"\"cpu\": {\"cores\": 1", "\"cpu\": {\"cores\": 2"},
       {"\"devices\": {", "\"devices\": {\"networkInterfaceMultiqueue\": true, "},
       {"{\"name\": \"blue\", \"binding\": {\"name\": \"k6t-bridge\"}}",
        "{\"name\": \"blue\", \"binding\": {\"name\": \"k6t-bridge\"}, \"macAddress\": "
        "\"02:00:00:0b:0b:0b\", \"bootOrder\": 2, \"pciAddress\": \"0000:81:01.0\", "
        "\"acpiIndex\": 7}"}});
  testing::PluggedPod pod = PlumbPod(vmi);
  auto out = DefineDomain(ReadTestdata("domain.xml"), vmi, {}, pod.Observer());
  ASSERT_TRUE(out.ok()) << out.status();
  const std::string blue = DeviceWithAlias(out->domain_xml, "ua-blue");
  EXPECT_THAT(blue, HasSubstr("<mac address='02:00:00:0b:0b:0b'/>"));
  EXPECT_THAT(blue, HasSubstr("queues='2'"));
  EXPECT_THAT(blue, HasSubstr("<boot order='2'/>"));
  EXPECT_THAT(blue, Not(HasSubstr("<rom")));
  EXPECT_THAT(blue, HasSubstr("<address type='pci' domain='0x0000' bus='0x81' slot='0x01' "
                              "function='0x0'/>"));
  EXPECT_THAT(blue, HasSubstr("<acpi index='7'/>"));
  auto again = DefineDomain(out->domain_xml, vmi, {}, pod.Observer());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->domain_xml, out->domain_xml);
}

TEST_F(DefineDomainTest, PluginSelectionServesOnlyThatPlugin) {
  options_.selection.plugin = "k6t-bridge";
  auto out = Define(domain_, vmi_);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->plans.size(), 1u);
  EXPECT_EQ(out->plans[0].interface_name, "blue");
  EXPECT_EQ(DeviceWithAlias(out->domain_xml, "ua-default"), DeviceWithAlias(domain_, "ua-default"));
}

struct Refusal {
  const char* name;
  std::string domain;  // empty: the testdata domain
  std::vector<std::pair<std::string, std::string>> vmi_edits;
  absl::StatusCode code;
  const char* message;
};

class DefineDomainRefusalTest : public DefineDomainTest,
                                public ::testing::WithParamInterface<Refusal> {};

TEST_P(DefineDomainRefusalTest, RefusedWithTheReasonAndNoDomain) {
  const Refusal& r = GetParam();
  std::string domain = r.domain.empty() ? domain_ : r.domain;
  if (domain.rfind("EDIT:", 0) == 0) {
    // "EDIT:from=>to" edits the testdata domain.
    const std::string edit = domain.substr(5);
    const size_t arrow = edit.find("=>");
    domain = absl::StrReplaceAll(domain_, {{edit.substr(0, arrow), edit.substr(arrow + 2)}});
  }
  auto out = Define(domain, absl::StrReplaceAll(vmi_, r.vmi_edits));
  ASSERT_FALSE(out.ok()) << r.name;
  EXPECT_EQ(out.status().code(), r.code) << out.status();
  EXPECT_THAT(std::string(out.status().message()), HasSubstr(r.message));
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, DefineDomainRefusalTest,
    ::testing::Values(
        Refusal{
            "not_xml", "<domain><devices>", {}, absl::StatusCode::kInvalidArgument, "domain XML"},
        Refusal{"not_a_domain",
                "<network/>",
                {},
                absl::StatusCode::kInvalidArgument,
                "<network> is not a <domain>"},
        Refusal{"dtd",
                "<!DOCTYPE domain [<!ENTITY x 'y'>]><domain/>",
                {},
                absl::StatusCode::kInvalidArgument,
                "domain XML"},
        Refusal{"vmi_not_json",
                "",
                {{"{\n  \"apiVersion\"", "apiVersion: x\n#"}},
                absl::StatusCode::kInvalidArgument,
                "VMI"},
        Refusal{"vmi_wrong_type",
                "",
                {{"\"name\": \"blue\", \"binding\"", "\"name\": 7, \"binding\""}},
                absl::StatusCode::kInvalidArgument,
                "VMI"},
        Refusal{"interface_without_network",
                "",
                {{"{\"name\": \"blue\", \"multus\"", "{\"name\": \"bleu\", \"multus\""}},
                absl::StatusCode::kInvalidArgument,
                "blue"},
        Refusal{"unknown_k6t_binding",
                "",
                {{"k6t-bridge", "k6t-brdge"}},
                absl::StatusCode::kInvalidArgument,
                "interface \"blue\": binding plugin \"k6t-brdge\""},
        Refusal{
            "alias_on_a_hostdev",
            "EDIT:<interface type=\"vhostuser\">=><hostdev mode=\"subsystem\" type=\"pci\"><alias "
            "name=\"ua-blue\"></alias></hostdev><interface type=\"vhostuser\">",
            {},
            absl::StatusCode::kInvalidArgument,
            "interface \"blue\""},
        Refusal{"alias_twice",
                "EDIT:<alias name=\"ua-default\">=><alias name=\"ua-blue\">",
                {},
                absl::StatusCode::kInvalidArgument,
                "2 devices have alias ua-blue"}),
    [](const ::testing::TestParamInfo<Refusal>& info) { return std::string(info.param.name); });

TEST(DefineDomainPodTest, PodLinkMissingIsRefusedNamingTheInterface) {
  // The pod as it is before any CNI ran k6t: no blue link at all.
  testing::PluggedPod empty;
  empty.kernel = std::make_unique<binding::testing::FakeKernel>();
  auto out =
      DefineDomain(ReadTestdata("domain.xml"), ReadTestdata("vmi.json"), {}, empty.Observer());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kNotFound) << out.status();
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("interface \"default\""));
}

}  // namespace
}  // namespace k6t::sidecar
