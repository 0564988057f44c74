// One test per admission rule of reference §7 (and each k6t rule): a passing and a
// failing spec, asserting the path and the message.
#include "k6t/api/validate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "k6t/api/decode.h"
#include "test/unit/api/test_util.h"

namespace k6t::api {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using testing::ErrorStrings;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kBase[] = R"(
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: base}
spec:
  template:
    spec:
      domain:
        resources: {requests: {memory: 256Mi}}
        devices:
          interfaces:
            - {name: default, masquerade: {}}
            - {name: blue, bridge: {}}
            - {name: vf, sriov: {}}
      networks:
        - {name: default, pod: {}}
        - {name: blue, multus: {networkName: blue-net}}
        - {name: vf, multus: {networkName: sriov-net}}
)";

const std::string P = "spec.template.spec";
const std::string I = P + ".domain.devices.interfaces";
const std::string N = P + ".networks";

Vmi Base() {
  auto v = DecodeSingleVmi(kBase, "base.yaml");
  EXPECT_TRUE(v.ok()) << v.status();
  return *v;
}

std::vector<std::string> Errs(const Vmi& v, const ClusterConfig& cfg = {}) {
  return ErrorStrings(Validate(v, cfg));
}

Interface& If(Vmi& v, size_t i) { return v.spec.domain.interfaces.at(i); }
Network& Net(Vmi& v, size_t i) { return v.spec.networks.at(i); }

void AddPair(Vmi& v, const std::string& name, BindingMethod b, Network n) {
  Interface i;
  i.name = name;
  i.bindings = {b};
  v.spec.domain.interfaces.push_back(i);
  n.name = name;
  v.spec.networks.push_back(n);
}

Network Pod() { return Network{.pod = PodNetwork{}}; }
Network Multus(const std::string& nad, bool def = false) {
  return Network{.multus = MultusNetwork{nad, def}};
}

TEST(ValidateTest, BaseIsValid) { EXPECT_THAT(Errs(Base()), IsEmpty()); }

TEST(ValidateTest, Rule01OnePodNetwork) {
  Vmi v = Base();
  AddPair(v, "second", BindingMethod::kBridge, Pod());
  EXPECT_THAT(Errs(v),
              Contains(N + "[3].pod: more than one interface is connected to a pod network (" + N +
                       "[0] is one)"));
}

TEST(ValidateTest, Rule02OneMultusDefault) {
  Vmi v = Base();
  v.spec.networks[0] = Multus("udn", true);
  v.spec.networks[0].name = "default";
  If(v, 0).bindings = {BindingMethod::kPlugin};
  If(v, 0).plugin_name = "l2bridge";
  EXPECT_THAT(Errs(v), IsEmpty());
  Net(v, 1).multus->is_default = true;
  // KubeVirt names the list; the message names the entries.
  EXPECT_THAT(Errs(v), Contains(N + ": Multus CNI should only have one default network (" + N +
                                "[0], " + N + "[1])"));
}

TEST(ValidateTest, Rule03PodAndMultusDefaultExclusive) {
  Vmi v = Base();
  Net(v, 1).multus->is_default = true;
  EXPECT_THAT(Errs(v),
              Contains(N + ": pod network cannot be used together with a Multus default network (" +
                       N + "[0]; " + N + "[1])"));
}

TEST(ValidateTest, Rule04ExactlyOneNetworkType) {
  Vmi v = Base();
  Net(v, 1).multus.reset();
  EXPECT_THAT(Errs(v), Contains(N + "[1]: network \"blue\" should have a network type"));
  Vmi w = Base();
  Net(w, 1).pod = PodNetwork{};
  EXPECT_THAT(Errs(w), Contains(N + "[1]: network \"blue\" should have only one network type"));
}

TEST(ValidateTest, Rule05MultusNeedsNetworkName) {
  Vmi v = Base();
  Net(v, 1).multus->network_name = "";
  EXPECT_THAT(Errs(v),
              Contains(N + "[1]: network \"blue\": CNI delegating plugin must have a networkName"));
  Net(v, 1).multus->network_name = "other-ns/blue-net";
  EXPECT_THAT(Errs(v), IsEmpty());
  Net(v, 1).multus->network_name = "a/b/c";
  EXPECT_THAT(Errs(v), Contains(HasSubstr(N + "[1].multus.networkName: \"a/b/c\" is not")));
}

TEST(ValidateTest, Rule06UniqueNetworkNames) {
  Vmi v = Base();
  Net(v, 2).name = "blue";
  EXPECT_THAT(Errs(v), Contains(N + "[2].name: \"blue\": every network must have a unique name"));
}

TEST(ValidateTest, Rule07NetworksAndInterfacesPair) {
  Vmi v = Base();
  v.spec.networks.pop_back();  // vf's network
  EXPECT_THAT(Errs(v), Contains(I + "[2].name: \"vf\" not found in " + N));
  Vmi w = Base();
  w.spec.domain.interfaces.pop_back();
  EXPECT_THAT(Errs(w),
              Contains(N + "[2].name: \"vf\" not found in " + P + ".domain.devices.interfaces"));
}

TEST(ValidateTest, Rule08UniqueInterfaceNames) {
  Vmi v = Base();
  If(v, 2).name = "blue";
  If(v, 2).bindings = {BindingMethod::kBridge};
  EXPECT_THAT(
      Errs(v),
      Contains(HasSubstr(
          I + "[2].name: \"blue\": only one interface can be connected to one specific network")));
}

TEST(ValidateTest, Rule09ResourceClaimNetworks) {
  Vmi v = Base();
  v.spec.domain.interfaces.pop_back();
  v.spec.networks.pop_back();
  Interface dra;
  dra.name = "dra";
  dra.bindings = {BindingMethod::kSriov};
  v.spec.domain.interfaces.push_back(dra);
  v.spec.networks.push_back(
      Network{.name = "dra", .resource_claim = ResourceClaimNetwork{"c", "r"}});
  // KubeVirt's paths: the list for the gate and for mixing with Multus, the network for a
  // repeated claim/request pair, the interfaces list for a binding that cannot take a claim.
  EXPECT_THAT(Errs(v), ElementsAre(N + ": resourceClaim (DRA) networks (\"dra\") are not "
                                       "supported by k6t (feature gate NetworkDevicesWithDRA is "
                                       "off)"));
  ClusterConfig gate;
  gate.network_devices_with_dra_gate = true;
  EXPECT_THAT(Errs(v, gate),
              ElementsAre(N + ": resourceClaim networks cannot be mixed with Multus networks"));
  v.spec.domain.interfaces.erase(v.spec.domain.interfaces.begin() + 1);
  v.spec.networks.erase(v.spec.networks.begin() + 1);
  EXPECT_THAT(Errs(v, gate), ElementsAre(N + "[1].resourceClaim.claimName: \"c\" not found in " +
                                         P + ".resourceClaims"));
  v.spec.resource_claims = {"c"};
  EXPECT_THAT(Errs(v, gate), IsEmpty());
  v.spec.domain.interfaces[1].bindings = {BindingMethod::kBridge};
  EXPECT_THAT(Errs(v, gate), Contains(I + ": interface \"dra\" of a resourceClaim network must "
                                          "use sriov or a binding plugin"));
  v.spec.domain.interfaces[1].bindings = {BindingMethod::kSriov};
  Interface dra2 = v.spec.domain.interfaces[1];
  dra2.name = "dra2";
  v.spec.domain.interfaces.push_back(dra2);
  v.spec.networks.push_back(
      Network{.name = "dra2", .resource_claim = ResourceClaimNetwork{"c", "r"}});
  EXPECT_THAT(Errs(v, gate),
              ElementsAre(N + "[2]: claim \"c\" request \"r\" is already used by " + N + "[1]"));
  v.spec.domain.interfaces.pop_back();
  v.spec.networks.pop_back();
  v.spec.domain.interfaces[1].bindings = {BindingMethod::kSriov};
  v.spec.networks[1].resource_claim->request_name = "";
  EXPECT_THAT(Errs(v, gate), Contains(N + "[1].resourceClaim.requestName: required"));
}

TEST(ValidateTest, Rule10ExactlyOneBinding) {
  Vmi v = Base();
  If(v, 1).bindings = {};
  EXPECT_THAT(Errs(v), Contains(I + "[1]: interface \"blue\" must have exactly one binding method "
                                    "or binding plugin (found none)"));
  If(v, 1).bindings = {BindingMethod::kBridge, BindingMethod::kSriov};
  EXPECT_THAT(Errs(v), Contains(I + "[1]: interface \"blue\" must have exactly one binding method "
                                    "or binding plugin (found bridge, sriov)"));
}

TEST(ValidateTest, Rule11MasqueradeOnlyOnPodNetwork) {
  Vmi v = Base();
  If(v, 1).bindings = {BindingMethod::kMasquerade};
  EXPECT_THAT(Errs(v),
              Contains(I + "[1].name: Masquerade interface only implemented with pod network"));
}

TEST(ValidateTest, Rule12ReservedMasqueradeMac) {
  // Masquerade second in the list, so the message matches the documented example.
  Vmi v = Base();
  std::swap(v.spec.domain.interfaces[0], v.spec.domain.interfaces[1]);
  If(v, 1).mac_address = "02:00:00:00:00:00";
  EXPECT_THAT(Errs(v), Contains("spec.template.spec.domain.devices.interfaces[1].macAddress: "
                                "\"02:00:00:00:00:00\" is reserved for the in-pod bridge"));
  If(v, 1).mac_address = "02-00-00-00-00-00";  // same MAC, dash form
  EXPECT_THAT(Errs(v), Contains(HasSubstr("is reserved for the in-pod bridge")));
  If(v, 1).mac_address = "02:00:00:00:00:01";
  EXPECT_THAT(Errs(v), IsEmpty());
  If(v, 0).mac_address = "02:00:00:00:00:00";  // bridge binding may use it
  EXPECT_THAT(Errs(v), IsEmpty());
}

TEST(ValidateTest, Rule13BridgeOnPodNetworkPermission) {
  Vmi v = Base();
  If(v, 0).bindings = {BindingMethod::kBridge};
  EXPECT_THAT(Errs(v), IsEmpty());
  ClusterConfig cfg;
  cfg.permit_bridge_on_pod_network = false;
  EXPECT_THAT(
      Errs(v, cfg),
      Contains(HasSubstr(
          I +
          "[0].name: Bridge on pod network configuration is not enabled under kubevirt-config")));
}

TEST(ValidateTest, Rule14PasstBinding) {
  Vmi v = Base();
  If(v, 0).bindings = {BindingMethod::kPasst};
  EXPECT_THAT(Errs(v), IsEmpty());
  ClusterConfig cfg;
  cfg.passt_binding_gate = false;
  EXPECT_THAT(Errs(v, cfg),
              Contains(I + "[0].name: passtBinding requires the PasstBinding feature gate"));
  If(v, 1).bindings = {BindingMethod::kPasst};
  EXPECT_THAT(Errs(v),
              Contains(I + "[1].name: passtBinding is only implemented with the pod network"));
}

TEST(ValidateTest, Rule15DiscontinuedBindings) {
  for (auto [b, field] : {std::pair{BindingMethod::kDeprecatedSlirp, "slirp"},
                          std::pair{BindingMethod::kDeprecatedMacvtap, "macvtap"},
                          std::pair{BindingMethod::kDeprecatedPasst, "passt"}}) {
    Vmi v = Base();
    If(v, 0).bindings = {b};
    EXPECT_THAT(Errs(v), Contains(I + "[0]." + field + ": " + field +
                                  " interface binding has been discontinued since v1.3"));
  }
}

TEST(ValidateTest, Rule16StateValues) {
  Vmi v = Base();
  for (const char* ok : {"", "up", "down"}) {
    If(v, 1).state = ok;
    EXPECT_THAT(Errs(v), IsEmpty()) << ok;
  }
  If(v, 1).state = "sideways";
  EXPECT_THAT(
      Errs(v),
      Contains(HasSubstr(I + "[1].state: \"sideways\": interface state value is unsupported")));
}

TEST(ValidateTest, Rule17SriovLinkState) {
  Vmi v = Base();
  If(v, 2).state = "down";
  EXPECT_THAT(Errs(v),
              Contains(I + "[2].state: \"down\": SR-IOV interfaces do not support link state"));
}

TEST(ValidateTest, Rule18AbsentOnlyWithBridge) {
  Vmi v = Base();
  If(v, 1).state = "absent";
  EXPECT_THAT(Errs(v), IsEmpty());
  If(v, 2).state = "absent";
  EXPECT_THAT(Errs(v), Contains(I + "[2].state: \"absent\" is only supported with bridge binding"));
}

TEST(ValidateTest, Rule19AbsentNotOnDefaultNetwork) {
  Vmi v = Base();
  If(v, 0).bindings = {BindingMethod::kBridge};
  If(v, 0).state = "absent";
  EXPECT_THAT(
      Errs(v),
      Contains(
          I +
          "[0].state: \"absent\" is not supported on the default (pod or Multus default) network"));
}

TEST(ValidateTest, Rule20InterfaceNameFormat) {
  Vmi v = Base();
  If(v, 1).name = Net(v, 1).name = "Blue_net-2";
  EXPECT_THAT(Errs(v), IsEmpty());
  If(v, 1).name = Net(v, 1).name = "blue net";
  EXPECT_THAT(Errs(v), Contains(I + "[1].name: \"blue net\" does not match ^[A-Za-z0-9-_]+$"));
}

TEST(ValidateTest, Rule21Model) {
  Vmi v = Base();
  for (const char* m : {"e1000", "e1000e", "igb", "ne2k_pci", "pcnet", "rtl8139", "virtio"}) {
    If(v, 1).model = m;
    EXPECT_THAT(Errs(v), IsEmpty()) << m;
  }
  If(v, 1).model = "vmxnet3";
  EXPECT_THAT(Errs(v),
              Contains(HasSubstr(I + "[1].model: interface model \"vmxnet3\" is not supported")));
}

TEST(ValidateTest, Rule22MacFormat) {
  Vmi v = Base();
  If(v, 1).mac_address = "de-ad-00-00-be-af";
  EXPECT_THAT(Errs(v), IsEmpty());
  If(v, 1).mac_address = "de:ad:00:00:be";
  EXPECT_THAT(Errs(v),
              Contains(I + "[1].macAddress: \"de:ad:00:00:be\" is not a MAC address: 5 bytes"));
  If(v, 1).mac_address = "0200.5e00.530";
  EXPECT_THAT(Errs(v), Contains(I + "[1].macAddress: \"0200.5e00.530\" is not a MAC address: "
                                    "too short (want aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff or "
                                    "aabb.ccdd.eeff)"));
  If(v, 1).mac_address = "0200.5e00.5301";  // Go's dotted form, as KubeVirt accepts it
  EXPECT_THAT(Errs(v), IsEmpty());
  If(v, 1).mac_address = "00:00:00:00:fe:80:00:00";
  EXPECT_THAT(Errs(v), Contains(I + "[1].macAddress: \"00:00:00:00:fe:80:00:00\" is too long for "
                                    "a MAC address: 8 bytes (EUI-64); an Ethernet MAC has 6 "
                                    "bytes"));
}

TEST(ValidateTest, Rule23PciAddress) {
  Vmi v = Base();
  If(v, 1).pci_address = "0000:81:01.7";
  EXPECT_THAT(Errs(v), IsEmpty());
  If(v, 1).pci_address = "0000:81:01.10";  // the API doc's own example fails the regex
  EXPECT_THAT(Errs(v), Contains(I + "[1].pciAddress: \"0000:81:01.10\" is not a PCI address "
                                    "(DDDD:BB:SS.F): 13 characters, not 12"));
}

TEST(ValidateTest, Rule24Ports) {
  Vmi v = Base();
  If(v, 0).ports = {{"http", "TCP", 80}, {"", "", 8080}, {"dns", "UDP", 53}};
  EXPECT_THAT(Errs(v), IsEmpty());
  If(v, 0).ports = {{"http", "tcp", 0}, {"http", "", 70000}, {"Bad_Name", "", 1}};
  auto e = Errs(v);
  EXPECT_THAT(e, Contains(I + "[0].ports[0].port: Port field is mandatory"));
  EXPECT_THAT(e, Contains(I + "[0].ports[0].protocol: \"tcp\": only TCP or UDP allowed"));
  EXPECT_THAT(e, Contains(I + "[0].ports[1].port: 70000 must be in range 0 < x < 65536"));
  EXPECT_THAT(e, Contains(I + "[0].ports[1].name: \"http\": Duplicate name of the port"));
  EXPECT_THAT(
      e,
      Contains(HasSubstr(I + "[0].ports[2].name: \"Bad_Name\" is not a valid IANA service name")));
  // Not checked on a non-pod network (KubeVirt only checks them there).
  Vmi w = Base();
  If(w, 1).ports = {{"", "", 0}};
  EXPECT_THAT(Errs(w), IsEmpty());
}

TEST(ValidateTest, Rule25PortRanges) {
  Vmi v = Base();
  If(v, 0).port_ranges = {{"TCP", 1000, 2000}, {"UDP", 1000, 2000}, {"TCP", 3000, 3000}};
  EXPECT_THAT(Errs(v), IsEmpty());
  ClusterConfig off;
  off.port_ranges_gate = false;
  EXPECT_THAT(Errs(v, off),
              Contains(I + "[0].name: portRanges requires the PortRangesSpec feature gate"));
  If(v, 0).port_ranges = {
      {"TCP", 1000, 2000}, {"TCP", 1500, 2500}, {"SCTP", 1, 2}, {"UDP", 0, 10}, {"UDP", 20, 10}};
  auto e = Errs(v);
  EXPECT_THAT(e, Contains(I + "[0].portRanges: TCP 1500-2500 (" + I +
                          "[0].portRanges[1]) overlaps 1000-2000 (" + I + "[0].portRanges[0])"));
  EXPECT_THAT(e, Contains(I + "[0].portRanges[2].protocol: \"SCTP\": only TCP or UDP allowed"));
  EXPECT_THAT(e, Contains(I + "[0].portRanges[3].start: 0 must be in range 0 < x < 65536"));
  // KubeVirt names `start` when a range ends before it starts.
  EXPECT_THAT(e, Contains(I + "[0].portRanges[4].start: 20 is greater than end 10"));
  Vmi w = Base();
  If(w, 0).port_ranges = std::vector<PortRange>(11, PortRange{"TCP", 1, 1});
  // Too many: the list is refused as a whole, its entries are not looked at.
  EXPECT_THAT(Errs(w), ElementsAre(I + "[0].portRanges: 11 port ranges; at most 10 are allowed"));
  If(w, 0).port_ranges = {{"TCP", 1, 2}};
  If(w, 0).ports = {{"", "", 80}};
  EXPECT_THAT(Errs(w), Contains(I + "[0].name: portRanges cannot be used together with ports"));
  Vmi b = Base();
  If(b, 1).port_ranges = {{"TCP", 1, 2}};
  EXPECT_THAT(Errs(b),
              Contains(I + "[1].name: portRanges are only supported with masquerade binding"));
}

TEST(ValidateTest, Rule26DhcpOptions) {
  Vmi v = Base();
  DhcpOptions d;
  d.ntp_servers = {"10.0.0.1"};
  d.private_options = {{224, "a"}, {254, "b"}};
  If(v, 0).dhcp_options = d;
  EXPECT_THAT(Errs(v), IsEmpty());
  d.ntp_servers = {"10.0.0.1", "ntp.example.org", "fd00::1"};
  d.private_options = {{224, "a"}, {224, "b"}, {223, "c"}, {255, "d"}};
  If(v, 0).dhcp_options = d;
  auto e = Errs(v);
  EXPECT_THAT(
      e, Contains(
             I + "[0].dhcpOptions.ntpServers[1]: \"ntp.example.org\" is not a valid IPv4 address"));
  EXPECT_THAT(
      e, Contains(I + "[0].dhcpOptions.ntpServers[2]: \"fd00::1\" is not a valid IPv4 address"));
  EXPECT_THAT(
      e,
      Contains(I + "[0].dhcpOptions.privateOptions[1].option: 224: duplicate private DHCP option"));
  EXPECT_THAT(e, Contains(I + "[0].dhcpOptions.privateOptions[2].option: 223: private DHCP option "
                              "codes must be in 224..254"));
  EXPECT_THAT(e, Contains(I + "[0].dhcpOptions.privateOptions[3].option: 255: private DHCP option "
                              "codes must be in 224..254"));
}

TEST(ValidateTest, BootOrderUniqueAcrossDisksAndInterfaces) {
  Vmi v = Base();
  v.spec.domain.disks.push_back(Disk{.name = "root",
                                     .bus = "virtio",
                                     .boot_order = 1,
                                     .image_path = "/img.raw",
                                     .source_index = 0});
  v.spec.volumes.push_back(
      Volume{.name = "root", .host_disk = HostDiskSource{.path = "/img.raw", .type = "Disk"}});
  If(v, 0).boot_order = 2;
  EXPECT_THAT(Errs(v), IsEmpty());
  If(v, 1).boot_order = 1;
  If(v, 2).boot_order = 0;
  auto e = Errs(v);
  EXPECT_THAT(e, Contains(I + "[1].bootOrder: boot order 1 is already used by " + P +
                          ".domain.devices.disks[0].bootOrder"));
  EXPECT_THAT(e, Contains(I + "[2].bootOrder: 0: boot order must be greater than 0"));
}

TEST(ValidateTest, VmNetworkCidrs) {
  Vmi v = Base();
  Net(v, 0).pod = PodNetwork{"192.168.7.0/30", "fd00:1::/126"};
  EXPECT_THAT(Errs(v), IsEmpty());
  Net(v, 0).pod = PodNetwork{"192.168.7.0/31", "fd00:1::/127"};
  auto e = Errs(v);
  EXPECT_THAT(
      e, Contains(HasSubstr(
             N + "[0].pod.vmNetworkCIDR: \"192.168.7.0/31\" leaves fewer than 2 host addresses")));
  EXPECT_THAT(
      e,
      Contains(HasSubstr(
          N + "[0].pod.vmIPv6NetworkCIDR: \"fd00:1::/127\" leaves fewer than 2 host addresses")));
  Net(v, 0).pod = PodNetwork{"fd00::/64", "10.0.0.0/8"};
  e = Errs(v);
  EXPECT_THAT(e, Contains(N + "[0].pod.vmNetworkCIDR: \"fd00::/64\" is not an IPv4 CIDR"));
  EXPECT_THAT(e, Contains(N + "[0].pod.vmIPv6NetworkCIDR: \"10.0.0.0/8\" is not an IPv6 CIDR"));
  Net(v, 0).pod = PodNetwork{"10.0.2.0", ""};
  EXPECT_THAT(Errs(v), Contains(N + "[0].pod.vmNetworkCIDR: \"10.0.2.0\" is not an IPv4 CIDR"));
}

TEST(ValidateTest, Mtu) {
  Vmi v = Base();
  If(v, 1).mtu = 68;
  If(v, 0).mtu = 9000;
  EXPECT_THAT(Errs(v), IsEmpty());
  If(v, 1).mtu = 67;
  If(v, 0).mtu = 65536;
  auto e = Errs(v);
  EXPECT_THAT(e, Contains(I + "[1].mtu: 67 is not in 68..65535"));
  EXPECT_THAT(e, Contains(I + "[0].mtu: 65536 is not in 68..65535"));
}

TEST(ValidateTest, DuplicateMacs) {
  Vmi v = Base();
  If(v, 0).mac_address = "02:11:22:33:44:55";
  If(v, 1).mac_address = "02:11:22:33:44:56";
  EXPECT_THAT(Errs(v), IsEmpty());
  If(v, 1).mac_address = "02-11-22-33-44-55";
  EXPECT_THAT(Errs(v), Contains(I + "[1].macAddress: \"02-11-22-33-44-55\" is already used by " +
                                I + "[0]"));
}

TEST(ValidateTest, AcpiIndex) {
  Vmi v = Base();
  If(v, 0).acpi_index = 1;
  If(v, 1).acpi_index = 16383;
  EXPECT_THAT(Errs(v), IsEmpty());
  If(v, 1).acpi_index = 1;
  If(v, 2).acpi_index = 16384;
  auto e = Errs(v);
  EXPECT_THAT(e, Contains(I + "[1].acpiIndex: 1 is already used by " + I + "[0]"));
  EXPECT_THAT(e, Contains(I + "[2].acpiIndex: 16384 is not in 1..16383"));
}

TEST(ValidateTest, BindingPluginMustBeRegistered) {
  Vmi v = Base();
  If(v, 1).bindings = {BindingMethod::kPlugin};
  If(v, 1).plugin_name = "l2bridge";
  EXPECT_THAT(Errs(v), IsEmpty());
  If(v, 1).plugin_name = "warp-drive";
  EXPECT_THAT(
      Errs(v),
      Contains(HasSubstr(
          I + "[1].binding.name: \"warp-drive\" is not a network binding plugin of this cluster")));
  If(v, 1).plugin_name = "";
  EXPECT_THAT(Errs(v), Contains(HasSubstr(I + "[1].binding.name: required")));
  ClusterConfig cfg;
  cfg.binding_plugins = {"warp-drive"};
  If(v, 1).plugin_name = "warp-drive";
  EXPECT_THAT(Errs(v, cfg), IsEmpty());
}

TEST(ValidateTest, PodLinkNamesFitIfnamsiz) {
  Vmi v = Base();
  // Spec-derived names fit by construction...
  EXPECT_THAT(ErrorStrings(ValidatePodLinkNames(v)), IsEmpty());
  // ...but a primary named by network-status may not: k6t-<name> must fit too.
  NetworkStatusEntry e;
  e.name = "ovn-kubernetes";
  e.interface = "ovn-udn1";
  e.is_default = true;
  EXPECT_THAT(ErrorStrings(ValidatePodLinkNames(v, {e})), IsEmpty());
  e.interface = "averylongname";
  EXPECT_THAT(ErrorStrings(ValidatePodLinkNames(v, {e})),
              Contains(N + "[0]: network \"default\": bridge name \"k6t-averylongname\" (17 "
                           "characters) does not fit IFNAMSIZ (1..15)"));
}

TEST(ValidateTest, HostnameAndSubdomain) {
  Vmi v = Base();
  v.spec.hostname = "web-1";
  v.spec.subdomain = "svc";
  EXPECT_THAT(Errs(v), IsEmpty());
  v.spec.hostname = "Web_1";
  EXPECT_THAT(Errs(v), Contains(P + ".hostname: \"Web_1\" is not a DNS-1123 label"));
}

TEST(ValidateTest, CpuMemoryDisksKernel) {
  Vmi v = Base();
  v.spec.domain.cpu.cores = 0;
  v.spec.domain.memory_bytes = 1024;
  v.spec.domain.kernel_boot = KernelBoot{"", "/initrd", ""};
  v.spec.domain.disks = {Disk{.name = "a", .bus = "floppy", .image_path = "/a", .source_index = 0},
                         Disk{.name = "a", .bus = "virtio", .image_path = "", .source_index = 1}};
  auto e = Errs(v);
  EXPECT_THAT(e, Contains(P + ".domain.cpu.cores: 0 is not in 1..512"));
  EXPECT_THAT(e, Contains(HasSubstr(P + ".domain.memory.guest: 1024 bytes is less than")));
  EXPECT_THAT(e, Contains(P + ".domain.firmware.kernelBoot.container.kernelPath: required when "
                              "kernelArgs or initrdPath are given"));
  EXPECT_THAT(e, Contains(P + ".domain.devices.disks[0].disk.bus: \"floppy\" is not a disk bus "
                              "(virtio, sata, scsi, usb)"));
  EXPECT_THAT(e, Contains(P + ".domain.devices.disks[1].name: \"a\": duplicate disk name (" + P +
                          ".domain.devices.disks[0])"));
  EXPECT_THAT(e, Contains(P +
                          ".domain.devices.disks[1].name: \"a\" has no volume of that name "
                          "in " +
                          P + ".volumes"));
}

TEST(ValidateTest, ReportsEveryErrorAtOnce) {
  Vmi v = Base();
  If(v, 0).model = "bogus";
  If(v, 1).mac_address = "nope";
  If(v, 2).pci_address = "x";
  Net(v, 1).multus->network_name = "";
  EXPECT_EQ(Validate(v).size(), 4u) << ::testing::PrintToString(Errs(v));
}

TEST(ValidateTest, VmiPathsStartWithSpec) {
  auto v = DecodeSingleVmi(
      "kind: VirtualMachineInstance\nmetadata: {name: x}\nspec:\n  domain:\n    devices:\n"
      "      interfaces: [{name: default, masquerade: {}, model: bogus}]\n"
      "  networks: [{name: default, pod: {}}]\n",
      "x");
  ASSERT_TRUE(v.ok());
  EXPECT_THAT(Errs(*v), Contains(HasSubstr("spec.domain.devices.interfaces[0].model: ")));
  EXPECT_THAT(Errs(*v), Not(Contains(HasSubstr("template"))));
}

}  // namespace
}  // namespace k6t::api
