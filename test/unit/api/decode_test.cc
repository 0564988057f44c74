#include "k6t/api/decode.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "absl/strings/str_split.h"
#include "k6t/api/validate.h"
#include "nlohmann/json.hpp"
#include "test/unit/api/test_util.h"

namespace k6t::api {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using testing::ErrorStrings;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Every field k6t models, spelled as a user would in YAML.
constexpr char kFullYaml[] = R"(
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata:
  name: full
  namespace: prod
  uid: 11111111-2222-3333-4444-555555555555
  labels: {app: web}
  annotations: {note: "x"}
spec:
  runStrategy: Always
  template:
    spec:
      hostname: full-host
      subdomain: svc
      domain:
        cpu: {sockets: 2, cores: 2, threads: 1}
        memory: {guest: 1Gi}
        resources: {requests: {memory: 512Mi}}
        firmware:
          kernelBoot:
            kernelArgs: console=ttyS0
            container: {kernelPath: /boot/vmlinuz, initrdPath: /boot/initrd.img}
        devices:
          autoattachPodInterface: true
          networkInterfaceMultiqueue: true
          useVirtioTransitional: true
          disks:
            - name: root
              disk: {bus: sata}
              bootOrder: 1
            - name: data
          interfaces:
            - name: default
              model: e1000e
              masquerade: {}
              ports:
                - {name: http, port: 80, protocol: TCP}
                - {port: 53, protocol: UDP}
              macAddress: "de:ad:00:00:be:af"
              bootOrder: 2
              pciAddress: "0000:81:01.0"
              acpiIndex: 3
              tag: frontend
              mtu: 1400
              dhcpOptions:
                bootFileName: pxe.efi
                tftpServerName: tftp.example.org
                ntpServers: ["0127.0.0.3", 10.0.0.1]
                privateOptions:
                  - {option: 240, value: extra}
            - name: blue
              bridge: {}
              state: down
            - name: vf
              sriov: {}
            - name: udn
              binding: {name: l2bridge}
      networks:
        - name: default
          pod: {vmNetworkCIDR: 010.000.002.000/24, vmIPv6NetworkCIDR: "fd10:0:2::/120"}
        - name: blue
          multus: {networkName: prod/blue-net}
        - name: vf
          multus: {networkName: sriov-net}
        - name: udn
          multus: {networkName: udn-net}
      volumes:
        - name: root
          hostDisk: {path: /var/lib/images/root.qcow2, type: Disk}
        - name: data
          containerDisk: {image: registry:5000/k6t/data:v1, path: /var/lib/images/data.raw}
)";

// The same VM as JSON, written independently of the YAML above.
constexpr char kFullJson[] = R"({
 "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
 "metadata": {"name": "full", "namespace": "prod", "uid": "11111111-2222-3333-4444-555555555555",
              "labels": {"app": "web"}, "annotations": {"note": "x"}},
 "spec": {"runStrategy": "Always", "template": {"spec": {
   "hostname": "full-host", "subdomain": "svc",
   "domain": {
     "cpu": {"sockets": 2, "cores": 2, "threads": 1},
     "memory": {"guest": "1Gi"},
     "resources": {"requests": {"memory": "512Mi"}},
     "firmware": {"kernelBoot": {"kernelArgs": "console=ttyS0",
        "container": {"kernelPath": "/boot/vmlinuz", "initrdPath": "/boot/initrd.img"}}},
     "devices": {
       "autoattachPodInterface": true, "networkInterfaceMultiqueue": true,
       "useVirtioTransitional": true,
       "disks": [{"name": "root", "disk": {"bus": "sata"}, "bootOrder": 1}, {"name": "data"}],
       "interfaces": [
         {"name": "default", "model": "e1000e", "masquerade": {},
          "ports": [{"name": "http", "port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
          "macAddress": "de:ad:00:00:be:af", "bootOrder": 2, "pciAddress": "0000:81:01.0",
          "acpiIndex": 3, "tag": "frontend", "mtu": 1400,
          "dhcpOptions": {"bootFileName": "pxe.efi", "tftpServerName": "tftp.example.org",
                          "ntpServers": ["0127.0.0.3", "10.0.0.1"],
                          "privateOptions": [{"option": 240, "value": "extra"}]}},
         {"name": "blue", "bridge": {}, "state": "down"},
         {"name": "vf", "sriov": {}},
         {"name": "udn", "binding": {"name": "l2bridge"}}]}},
   "networks": [
     {"name": "default", "pod": {"vmNetworkCIDR": "010.000.002.000/24",
                                 "vmIPv6NetworkCIDR": "fd10:0:2::/120"}},
     {"name": "blue", "multus": {"networkName": "prod/blue-net"}},
     {"name": "vf", "multus": {"networkName": "sriov-net"}},
     {"name": "udn", "multus": {"networkName": "udn-net"}}],
   "volumes": [
     {"name": "root", "hostDisk": {"path": "/var/lib/images/root.qcow2", "type": "Disk"}},
     {"name": "data", "containerDisk": {"image": "registry:5000/k6t/data:v1",
                                         "path": "/var/lib/images/data.raw"}}]}}}
})";

TEST(DecodeTest, EveryFieldFromYaml) {
  auto m = DecodeManifest(kFullYaml, "full.yaml");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_THAT(ErrorStrings(m->warnings), IsEmpty());
  ASSERT_EQ(m->vms.size(), 1u);
  const Vmi& v = m->vms[0];
  EXPECT_EQ(v.kind, "VirtualMachine");
  EXPECT_EQ(v.spec_path, "spec.template.spec");
  EXPECT_EQ(v.source, "full.yaml");
  EXPECT_EQ(v.meta.name, "full");
  EXPECT_EQ(v.meta.namespace_, "prod");
  EXPECT_EQ(v.meta.uid, "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(v.meta.labels.at("app"), "web");
  EXPECT_EQ(v.meta.annotations.at("note"), "x");
  EXPECT_EQ(v.spec.hostname, "full-host");
  EXPECT_EQ(v.spec.subdomain, "svc");
  const Domain& d = v.spec.domain;
  EXPECT_EQ(d.cpu.vcpus(), 4);
  EXPECT_EQ(d.memory_bytes, 1ll << 30);  // memory.guest wins over requests.memory
  ASSERT_TRUE(d.kernel_boot);
  EXPECT_EQ(d.kernel_boot->kernel_path, "/boot/vmlinuz");
  EXPECT_EQ(d.kernel_boot->initrd_path, "/boot/initrd.img");
  EXPECT_EQ(d.kernel_boot->kernel_args, "console=ttyS0");
  EXPECT_TRUE(d.autoattach_pod_interface);
  EXPECT_TRUE(d.network_interface_multiqueue);
  EXPECT_TRUE(d.use_virtio_transitional);
  ASSERT_EQ(d.disks.size(), 2u);
  EXPECT_EQ(d.disks[0].name, "root");
  EXPECT_EQ(d.disks[0].bus, "sata");
  EXPECT_EQ(d.disks[0].boot_order, 1);
  EXPECT_EQ(d.disks[0].image_path, "/var/lib/images/root.qcow2");
  EXPECT_EQ(d.disks[1].bus, "virtio");
  // containerDisk.path is a path inside the image: the launcher resolves it, not decoding.
  EXPECT_EQ(d.disks[1].image_path, "");
  ASSERT_EQ(v.spec.volumes.size(), 2u);
  ASSERT_TRUE(v.spec.volumes[1].container_disk);
  EXPECT_EQ(v.spec.volumes[1].container_disk->path, "/var/lib/images/data.raw");
  ASSERT_EQ(d.interfaces.size(), 4u);
  const Interface& i = d.interfaces[0];
  EXPECT_EQ(i.model, "e1000e");
  EXPECT_THAT(i.bindings, ElementsAre(BindingMethod::kMasquerade));
  ASSERT_EQ(i.ports.size(), 2u);
  EXPECT_EQ(i.ports[0].name, "http");
  EXPECT_EQ(i.ports[0].port, 80);
  EXPECT_EQ(i.ports[1].protocol, "UDP");
  EXPECT_EQ(i.mac_address, "de:ad:00:00:be:af");
  EXPECT_EQ(i.boot_order, 2);
  EXPECT_EQ(i.pci_address, "0000:81:01.0");
  EXPECT_EQ(i.acpi_index, 3);
  EXPECT_EQ(i.tag, "frontend");
  EXPECT_EQ(i.mtu, 1400);
  ASSERT_TRUE(i.dhcp_options);
  EXPECT_EQ(i.dhcp_options->boot_file_name, "pxe.efi");
  EXPECT_EQ(i.dhcp_options->tftp_server_name, "tftp.example.org");
  EXPECT_THAT(i.dhcp_options->ntp_servers, ElementsAre("127.0.0.3", "10.0.0.1"));
  ASSERT_EQ(i.dhcp_options->private_options.size(), 1u);
  EXPECT_EQ(i.dhcp_options->private_options[0].option, 240);
  EXPECT_EQ(i.dhcp_options->private_options[0].value, "extra");
  EXPECT_EQ(d.interfaces[1].state, "down");
  EXPECT_THAT(d.interfaces[2].bindings, ElementsAre(BindingMethod::kSriov));
  EXPECT_THAT(d.interfaces[3].bindings, ElementsAre(BindingMethod::kPlugin));
  EXPECT_EQ(d.interfaces[3].plugin_name, "l2bridge");
  ASSERT_EQ(v.spec.networks.size(), 4u);
  ASSERT_TRUE(v.spec.networks[0].pod);
  EXPECT_EQ(v.spec.networks[0].pod->vm_network_cidr, "10.0.2.0/24");  // leading zeros gone
  EXPECT_EQ(v.spec.networks[0].pod->vm_ipv6_network_cidr, "fd10:0:2::/120");
  ASSERT_TRUE(v.spec.networks[1].multus);
  EXPECT_EQ(v.spec.networks[1].multus->network_name, "prod/blue-net");
  EXPECT_FALSE(v.spec.networks[1].multus->is_default);
  EXPECT_THAT(ErrorStrings(Validate(v)), IsEmpty());
}

TEST(DecodeTest, YamlAndJsonGiveTheSameModel) {
  auto y = DecodeSingleVmi(kFullYaml, "x");
  auto j = DecodeSingleVmi(kFullJson, "x");
  ASSERT_TRUE(y.ok()) << y.status();
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ(*y, *j);
  // A JSON List holding the same object.
  std::string list =
      std::string(R"({"apiVersion":"v1","kind":"List","items":[)") + kFullJson + "]}";
  auto l = DecodeManifest(list, "x");
  ASSERT_TRUE(l.ok()) << l.status();
  ASSERT_EQ(l->vms.size(), 1u);
  EXPECT_EQ(l->vms[0].spec_path, "items[0].spec.template.spec");
  Vmi from_list = l->vms[0];
  from_list.spec_path = y->spec_path;
  EXPECT_EQ(from_list, *y);
}

TEST(DecodeTest, EncodeRoundTrip) {
  auto y = DecodeSingleVmi(kFullYaml, "x");
  ASSERT_TRUE(y.ok());
  const std::string json = EncodeVmiJson(*y);
  auto back = DecodeSingleVmi(json, "x");
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << json;
  EXPECT_EQ(back->kind, "VirtualMachineInstance");
  EXPECT_EQ(back->spec_path, "spec");
  EXPECT_EQ(back->meta, y->meta);
  EXPECT_EQ(back->spec, y->spec);
}

TEST(DecodeTest, EveryExampleDecodesAndValidates) {
  for (const auto& name : testing::ExampleNames()) {
    SCOPED_TRACE(name);
    auto m = DecodeManifestFile(testing::SourceDir() + "/examples/" + name);
    ASSERT_TRUE(m.ok()) << m.status();
    ASSERT_EQ(m->vms.size(), 1u);
    EXPECT_THAT(ErrorStrings(m->warnings), IsEmpty());
    EXPECT_THAT(ErrorStrings(Validate(m->vms[0])), IsEmpty());
    EXPECT_EQ(m->vms[0].spec.domain.memory_bytes, 256ll << 20);
    EXPECT_EQ(m->vms[0].spec.domain.cpu.vcpus(), 1);
    EXPECT_TRUE(m->vms[0].spec.domain.disks.empty());
    EXPECT_FALSE(m->vms[0].spec.domain.kernel_boot);
    // Every Multus network names a NAD that the file also carries.
    for (const auto& net : m->vms[0].spec.networks) {
      if (!net.multus) continue;
      bool found = false;
      for (const auto& o : m->others)
        found |= o.kind == "NetworkAttachmentDefinition" && o.name == net.multus->network_name;
      EXPECT_TRUE(found) << net.multus->network_name;
    }
  }
}

TEST(DecodeTest, ExampleContents) {
  const std::string dir = testing::SourceDir() + "/examples/";
  auto mp = DecodeSingleVmiFile(dir + "masquerade-ports.yaml");
  ASSERT_TRUE(mp.ok());
  const auto& ports = mp->spec.domain.interfaces.at(0).ports;
  ASSERT_EQ(ports.size(), 2u);
  EXPECT_EQ(ports[0].port, 80);
  EXPECT_EQ(ports[0].protocol, "TCP");
  EXPECT_EQ(ports[1].port, 8080);

  auto qs = DecodeManifestFile(dir + "quickstart.yaml");
  ASSERT_TRUE(qs.ok());
  const Vmi& v = qs->vms.at(0);
  EXPECT_THAT(v.spec.domain.interfaces.at(1).bindings, ElementsAre(BindingMethod::kBridge));
  EXPECT_EQ(v.spec.networks.at(1).name, "blue");
  ASSERT_EQ(qs->others.size(), 1u);
  const RawObject& nad = qs->others[0];
  EXPECT_EQ(nad.kind, "NetworkAttachmentDefinition");
  EXPECT_EQ(nad.api_version, "k8s.cni.cncf.io/v1");
  EXPECT_EQ(nad.name, "blue-net");
  EXPECT_EQ(nad.namespace_, "default");
  // spec.config is a JSON string inside the object: the pod simulator parses it.
  auto obj = nlohmann::json::parse(nad.json);
  auto config = nlohmann::json::parse(obj["spec"]["config"].get<std::string>());
  EXPECT_EQ(config["type"], "bridge");
  EXPECT_EQ(config["ipam"]["type"], "host-local");
  EXPECT_EQ(config["ipam"]["subnet"], "192.168.100.0/24");
  EXPECT_FALSE(config.contains("vlan"));

  auto vlan = DecodeManifestFile(dir + "masquerade-bridge-vlan.yaml");
  ASSERT_TRUE(vlan.ok());
  auto vc = nlohmann::json::parse(
      nlohmann::json::parse(vlan->others.at(0).json)["spec"]["config"].get<std::string>());
  EXPECT_EQ(vc["vlan"], 100);
  EXPECT_EQ(vc["type"], "bridge");

  auto sriov = DecodeManifestFile(dir + "sriov.yaml");
  ASSERT_TRUE(sriov.ok());
  auto so = nlohmann::json::parse(sriov->others.at(0).json);
  EXPECT_EQ(so["metadata"]["annotations"]["k8s.v1.cni.cncf.io/resourceName"],
            "intel.com/sriov_vfio");

  auto udn = DecodeSingleVmiFile(dir + "primary-udn-l2bridge.yaml");
  ASSERT_TRUE(udn.ok());
  EXPECT_EQ(udn->spec.domain.interfaces.at(0).plugin_name, "l2bridge");
  EXPECT_TRUE(udn->spec.networks.at(0).primary());

  auto ds = DecodeSingleVmiFile(dir + "dual-stack-masquerade.yaml");
  ASSERT_TRUE(ds.ok());
  EXPECT_EQ(ds->spec.networks.at(0).pod->vm_ipv6_network_cidr, "fd10:0:2::/120");

  auto passt = DecodeSingleVmiFile(dir + "passt.yaml");
  ASSERT_TRUE(passt.ok());
  EXPECT_THAT(passt->spec.domain.interfaces.at(0).bindings, ElementsAre(BindingMethod::kPasst));
}

TEST(DecodeTest, VirtualMachineInstanceAndMultiDocument) {
  constexpr char kText[] = R"(
apiVersion: kubevirt.io/v1
kind: VirtualMachineInstance
metadata: {name: a}
spec:
  domain: {devices: {}}
---
# an empty document in between
---
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: b, namespace: other}
spec: {template: {spec: {domain: {devices: {autoattachPodInterface: false}}}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data: {k: v}
)";
  auto m = DecodeManifest(kText, "multi.yaml");
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->vms.size(), 2u);
  EXPECT_EQ(m->vms[0].kind, "VirtualMachineInstance");
  EXPECT_EQ(m->vms[0].spec_path, "spec");
  EXPECT_EQ(m->vms[0].meta.namespace_, "default");
  // Defaulting: nothing said about networks -> masquerade on the pod network.
  ASSERT_EQ(m->vms[0].spec.domain.interfaces.size(), 1u);
  EXPECT_EQ(m->vms[0].spec.domain.interfaces[0].name, "default");
  EXPECT_THAT(m->vms[0].spec.domain.interfaces[0].bindings,
              ElementsAre(BindingMethod::kMasquerade));
  ASSERT_EQ(m->vms[0].spec.networks.size(), 1u);
  EXPECT_TRUE(m->vms[0].spec.networks[0].pod);
  // autoattachPodInterface: false -> no default interface.
  EXPECT_TRUE(m->vms[1].spec.domain.interfaces.empty());
  EXPECT_EQ(m->vms[1].meta.namespace_, "other");
  ASSERT_EQ(m->others.size(), 1u);
  EXPECT_EQ(m->others[0].kind, "ConfigMap");
}

// Issue 14: a MAC in any form KubeVirt accepts is canonicalised once, here, so the plan,
// the domain XML, the DHCP server and the status all see the lower-case colon form.
TEST(DecodeTest, MacAndPciAddressesAreCanonicalOnceDecoded) {
  constexpr char kText[] = R"(
apiVersion: kubevirt.io/v1
kind: VirtualMachineInstance
metadata: {name: macs}
spec:
  domain:
    devices:
      interfaces:
      - {name: dotted, bridge: {}, macAddress: 0200.5E00.5301, pciAddress: 0000:8A:1f.3}
      - {name: dashed, bridge: {}, macAddress: 02-00-5E-00-53-02}
      - {name: upper, bridge: {}, macAddress: "02:00:5E:00:53:03"}
      - {name: bad, bridge: {}, macAddress: 0200.5e00.530, pciAddress: 0000:8A:1f.9}
  networks:
  - {name: dotted, multus: {networkName: a}}
  - {name: dashed, multus: {networkName: b}}
  - {name: upper, multus: {networkName: c}}
  - {name: bad, multus: {networkName: d}}
)";
  auto v = DecodeSingleVmi(kText, "macs.yaml");
  ASSERT_TRUE(v.ok()) << v.status();
  const auto& ifs = v->spec.domain.interfaces;
  ASSERT_EQ(ifs.size(), 4u);
  EXPECT_EQ(ifs[0].mac_address, "02:00:5e:00:53:01");
  EXPECT_EQ(ifs[0].pci_address, "0000:8a:1f.3");
  EXPECT_EQ(ifs[1].mac_address, "02:00:5e:00:53:02");
  EXPECT_EQ(ifs[2].mac_address, "02:00:5e:00:53:03");
  // What does not parse stays as written, for validation to name.
  EXPECT_EQ(ifs[3].mac_address, "0200.5e00.530");
  EXPECT_EQ(ifs[3].pci_address, "0000:8A:1f.9");
  EXPECT_THAT(ErrorStrings(Validate(*v)),
              ElementsAre(HasSubstr("spec.domain.devices.interfaces[3].macAddress: "),
                          HasSubstr("spec.domain.devices.interfaces[3].pciAddress: ")));
  // The canonical form survives the RPC's JSON.
  auto again = DecodeSingleVmi(EncodeVmiJson(*v), "rpc");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->spec.domain.interfaces, ifs);
}

TEST(DecodeTest, DefaultBindingIsConfigurable) {
  Vmi v;
  ApplyDefaults(v, ClusterConfig{.default_binding = BindingMethod::kBridge});
  ASSERT_EQ(v.spec.domain.interfaces.size(), 1u);
  EXPECT_THAT(v.spec.domain.interfaces[0].bindings, ElementsAre(BindingMethod::kBridge));
  // Not applied when the VM names any network.
  Vmi w;
  w.spec.networks.push_back(Network{.name = "x"});
  ApplyDefaults(w);
  EXPECT_TRUE(w.spec.domain.interfaces.empty());
}

TEST(DecodeTest, DerivedUidIsStableUuid) {
  auto a = DecodeSingleVmi(
      "{kind: VirtualMachineInstance, metadata: {name: vm1}, spec: {domain: {}}}", "a");
  auto b = DecodeSingleVmi(
      "{kind: VirtualMachineInstance, metadata: {name: vm1}, spec: {domain: {}}}", "b");
  auto c = DecodeSingleVmi(
      "{kind: VirtualMachineInstance, metadata: {name: vm2}, spec: {domain: {}}}", "c");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok()) << a.status();
  EXPECT_EQ(a->meta.uid, b->meta.uid);
  EXPECT_NE(a->meta.uid, c->meta.uid);
  EXPECT_TRUE(std::regex_match(
      a->meta.uid,
      std::regex("^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")))
      << a->meta.uid;
  // From SHA-256("default/vm1") = c419e4ea9fb0e3b4d588...
  EXPECT_EQ(a->meta.uid.substr(0, 8), "c419e4ea");
}

TEST(DecodeTest, MemoryQuantities) {
  auto mem = [](const std::string& domain) {
    auto v = DecodeSingleVmi(
        "kind: VirtualMachineInstance\nmetadata: {name: m}\nspec:\n  domain: " + domain, "m");
    return v.ok() ? v->spec.domain.memory_bytes : -1;
  };
  EXPECT_EQ(mem("{resources: {requests: {memory: 256Mi}}}"), 256ll << 20);
  EXPECT_EQ(mem("{resources: {requests: {memory: 512M}}}"), 512000000);
  EXPECT_EQ(mem("{memory: {guest: 1Gi}}"), 1ll << 30);
  EXPECT_EQ(mem("{memory: {guest: 1073741824}}"), 1ll << 30);
  EXPECT_EQ(mem("{}"), 0);
  auto bad = DecodeManifestReport(
      "kind: VirtualMachineInstance\nmetadata: {name: m}\nspec: {domain: {memory: {guest: lots}}}",
      "m");
  EXPECT_THAT(ErrorStrings(bad.errors),
              Contains(HasSubstr("spec.domain.memory.guest: \"lots\" is not a quantity")));
}

TEST(DecodeTest, DiskVolumeJoin) {
  constexpr char kText[] = R"(
kind: VirtualMachineInstance
metadata: {name: d}
spec:
  domain:
    devices:
      disks:
        - {name: root, bootOrder: 1}
        - {name: cloudinit}
        - {name: orphan}
        - {name: pulled}
        - {name: config}
  volumes:
    - {name: root, hostDisk: {path: /img/root.raw, type: Disk}}
    - {name: cloudinit, cloudInitNoCloud: {userData: "#cloud-config"}}
    - {name: pulled, containerDisk: {image: quay.io/containerdisks/fedora}}
    - {name: config, configMap: {name: app-config}}
)";
  auto r = DecodeManifestReport(kText, "d");
  ASSERT_TRUE(r.status.ok());
  EXPECT_THAT(ErrorStrings(r.errors), IsEmpty());
  ASSERT_EQ(r.manifest.vms.size(), 1u);
  const Vmi& vmi = r.manifest.vms[0];
  const auto& disks = vmi.spec.domain.disks;
  ASSERT_EQ(disks.size(), 4u);  // config left out: k6t cannot attach a configMap
  EXPECT_EQ(disks[0].image_path, "/img/root.raw");
  EXPECT_EQ(disks[0].source_index, 0);
  EXPECT_EQ(disks[1].name, "cloudinit");
  EXPECT_EQ(disks[3].name, "pulled");
  EXPECT_EQ(disks[3].source_index, 3);
  EXPECT_THAT(ErrorStrings(r.manifest.warnings),
              ElementsAre("spec.volumes[3]: volume type \"configMap\" is not supported by k6t; "
                          "its disk is left out"));
  // Matching disks and volumes is validation's job.
  EXPECT_THAT(ErrorStrings(Validate(vmi)),
              ElementsAre("spec.domain.devices.disks[2].name: \"orphan\" has no volume of that "
                          "name in spec.volumes"));
}

TEST(DecodeTest, UnknownFieldsAreWarnings) {
  constexpr char kText[] = R"(
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: u, creationTimestamp: null, flavour: spicy}
spec:
  running: true
  template:
    spec:
      terminationGracePeriodSeconds: 0
      frobnicate: 1
      domain:
        devices:
          interfaces: [{name: default, masquerade: {}, colour: red}]
      networks: [{name: default, pod: {}, extra: {}}]
)";
  auto m = DecodeManifest(kText, "u");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_THAT(ErrorStrings(m->warnings),
              ::testing::UnorderedElementsAre(
                  "metadata.flavour: unknown field, ignored",
                  "spec.template.spec.frobnicate: unknown field, ignored",
                  "spec.template.spec.domain.devices.interfaces[0].colour: unknown field, ignored",
                  "spec.template.spec.networks[0].extra: unknown field, ignored"));
  EXPECT_THAT(ErrorStrings(Validate(m->vms[0])), IsEmpty());
}

TEST(DecodeTest, WrongTypeMessageNamesPathAndValue) {
  constexpr char kText[] = R"(
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: t}
spec:
  template:
    spec:
      domain:
        devices:
          interfaces: [{name: default, masquerade: {}, bootOrder: x, acpiIndex: true}]
      networks: [{name: default, pod: {}, }]
)";
  auto r = DecodeManifestReport(kText, "t");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(ErrorStrings(r.errors),
              ::testing::UnorderedElementsAre(
                  "spec.template.spec.domain.devices.interfaces[0].bootOrder: expected an "
                  "integer, got string \"x\"",
                  "spec.template.spec.domain.devices.interfaces[0].acpiIndex: expected an "
                  "integer, got boolean true"));
  auto st = DecodeManifest(kText, "t");
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(std::string(st.status().message()), HasSubstr("bootOrder"));
  EXPECT_THAT(std::string(st.status().message()), HasSubstr("acpiIndex"));
}

// Each field, given a value of the wrong type, yields an error naming exactly that field.
TEST(DecodeTest, WrongTypesInEveryField) {
  const nlohmann::json base = nlohmann::json::parse(kFullJson);
  const nlohmann::json kString = "str";
  const nlohmann::json kNumber = 7;
  const nlohmann::json kList = nlohmann::json::array({1});
  struct Case {
    const char* pointer;
    nlohmann::json value;
  };
  const std::string s = "/spec/template/spec";
  const std::string d = s + "/domain";
  const std::string i = d + "/devices/interfaces/0";
  const std::vector<Case> cases = {
      {"/metadata", kString},
      {"/metadata/name", kNumber},
      {"/metadata/namespace", kList},
      {"/metadata/uid", kNumber},
      {"/metadata/labels", kList},
      {"/metadata/labels/app", kNumber},
      {"/metadata/annotations", kString},
      {"/spec", kString},
      {"/spec/template", kNumber},
      {"/spec/template/spec", kList},
      {"/spec/template/spec/hostname", kNumber},
      {"/spec/template/spec/subdomain", kNumber},
      {"/spec/template/spec/networks", kString},
      {"/spec/template/spec/networks/0", kString},
      {"/spec/template/spec/networks/0/name", kNumber},
      {"/spec/template/spec/networks/0/pod", kString},
      {"/spec/template/spec/networks/0/pod/vmNetworkCIDR", kNumber},
      {"/spec/template/spec/networks/0/pod/vmIPv6NetworkCIDR", kNumber},
      {"/spec/template/spec/networks/1/multus", kNumber},
      {"/spec/template/spec/networks/1/multus/networkName", kList},
      {"/spec/template/spec/networks/1/multus/default", kString},
      {"/spec/template/spec/volumes", kNumber},
      {"/spec/template/spec/volumes/0/hostDisk", kString},
      {"/spec/template/spec/volumes/0/hostDisk/path", kNumber},
      {"/spec/template/spec/volumes/1/containerDisk/path", kNumber},
      {"/spec/template/spec/domain", kString},
      {"/spec/template/spec/domain/cpu", kString},
      {"/spec/template/spec/domain/cpu/sockets", kString},
      {"/spec/template/spec/domain/cpu/cores", nlohmann::json(1.5)},
      {"/spec/template/spec/domain/cpu/threads", kList},
      {"/spec/template/spec/domain/memory", kNumber},
      {"/spec/template/spec/domain/memory/guest", kList},
      {"/spec/template/spec/domain/resources/requests", kString},
      {"/spec/template/spec/domain/firmware", kNumber},
      {"/spec/template/spec/domain/firmware/kernelBoot", kString},
      {"/spec/template/spec/domain/firmware/kernelBoot/kernelArgs", kNumber},
      {"/spec/template/spec/domain/firmware/kernelBoot/container", kNumber},
      {"/spec/template/spec/domain/firmware/kernelBoot/container/kernelPath", kNumber},
      {"/spec/template/spec/domain/firmware/kernelBoot/container/initrdPath", kList},
      {"/spec/template/spec/domain/devices", kList},
      {"/spec/template/spec/domain/devices/autoattachPodInterface", kString},
      {"/spec/template/spec/domain/devices/networkInterfaceMultiqueue", kNumber},
      {"/spec/template/spec/domain/devices/useVirtioTransitional", kString},
      {"/spec/template/spec/domain/devices/disks", kString},
      {"/spec/template/spec/domain/devices/disks/0", kNumber},
      {"/spec/template/spec/domain/devices/disks/0/name", kNumber},
      {"/spec/template/spec/domain/devices/disks/0/disk", kString},
      {"/spec/template/spec/domain/devices/disks/0/disk/bus", kNumber},
      {"/spec/template/spec/domain/devices/disks/0/bootOrder", kString},
      {"/spec/template/spec/domain/devices/interfaces", kString},
      {"/spec/template/spec/domain/devices/interfaces/0", kList},
      {"/spec/template/spec/domain/devices/interfaces/0/name", kNumber},
      {"/spec/template/spec/domain/devices/interfaces/0/model", kNumber},
      {"/spec/template/spec/domain/devices/interfaces/0/masquerade", kString},
      {"/spec/template/spec/domain/devices/interfaces/1/bridge", kList},
      {"/spec/template/spec/domain/devices/interfaces/2/sriov", kNumber},
      {"/spec/template/spec/domain/devices/interfaces/3/binding", kString},
      {"/spec/template/spec/domain/devices/interfaces/3/binding/name", kNumber},
      {"/spec/template/spec/domain/devices/interfaces/0/ports", kString},
      {"/spec/template/spec/domain/devices/interfaces/0/ports/0", kString},
      {"/spec/template/spec/domain/devices/interfaces/0/ports/0/name", kNumber},
      {"/spec/template/spec/domain/devices/interfaces/0/ports/0/port", kString},
      {"/spec/template/spec/domain/devices/interfaces/0/ports/0/protocol", kNumber},
      {"/spec/template/spec/domain/devices/interfaces/0/portRanges", kString},
      {"/spec/template/spec/domain/devices/interfaces/0/macAddress", kNumber},
      {"/spec/template/spec/domain/devices/interfaces/0/bootOrder", kString},
      {"/spec/template/spec/domain/devices/interfaces/0/pciAddress", kNumber},
      {"/spec/template/spec/domain/devices/interfaces/0/acpiIndex", kString},
      {"/spec/template/spec/domain/devices/interfaces/0/tag", kNumber},
      {"/spec/template/spec/domain/devices/interfaces/1/state", kNumber},
      {"/spec/template/spec/domain/devices/interfaces/0/mtu", kString},
      {"/spec/template/spec/domain/devices/interfaces/0/dhcpOptions", kString},
      {"/spec/template/spec/domain/devices/interfaces/0/dhcpOptions/bootFileName", kNumber},
      {"/spec/template/spec/domain/devices/interfaces/0/dhcpOptions/tftpServerName", kNumber},
      {"/spec/template/spec/domain/devices/interfaces/0/dhcpOptions/ntpServers", kString},
      {"/spec/template/spec/domain/devices/interfaces/0/dhcpOptions/ntpServers/0", kNumber},
      {"/spec/template/spec/domain/devices/interfaces/0/dhcpOptions/privateOptions", kNumber},
      {"/spec/template/spec/domain/devices/interfaces/0/dhcpOptions/privateOptions/0/option",
       kString},
      {"/spec/template/spec/domain/devices/interfaces/0/dhcpOptions/privateOptions/0/value",
       kNumber},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.pointer);
    nlohmann::json doc = base;
    doc[nlohmann::json::json_pointer(c.pointer)] = c.value;
    auto r = DecodeManifestReport(doc.dump(), "wrong.json");
    ASSERT_TRUE(r.status.ok()) << r.status;
    // "/a/b/0/c" -> "a.b[0].c"
    std::string path;
    for (absl::string_view part_view : absl::StrSplit(c.pointer + 1, '/')) {
      const std::string part(part_view);
      if (!part.empty() && std::all_of(part.begin(), part.end(), ::isdigit))
        path += "[" + part + "]";
      else
        path += (path.empty() ? "" : ".") + part;
    }
    EXPECT_THAT(ErrorStrings(r.errors), Contains(HasSubstr(path + ": expected ")));
  }
}

TEST(DecodeTest, AllErrorsAreReported) {
  nlohmann::json doc = nlohmann::json::parse(kFullJson);
  auto& i0 = doc["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"][0];
  i0["bootOrder"] = "x";
  i0["mtu"] = "big";
  i0["acpiIndex"] = false;
  doc["spec"]["template"]["spec"]["networks"][1]["multus"]["default"] = "yes";
  auto r = DecodeManifestReport(doc.dump(), "e");
  EXPECT_EQ(r.errors.size(), 4u) << ::testing::PrintToString(ErrorStrings(r.errors));
}

}  // namespace
}  // namespace k6t::api
