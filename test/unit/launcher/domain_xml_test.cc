// Golden files for the domain XML of a few VMs, each also validated against libvirt's own
// schema with virt-xml-validate. K6T_UPDATE_GOLDEN=1 rewrites the golden files. The phases
// have their own tests (domain_{machine,disks,devices_phase}_test.cc).
#include "domain_xml.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace k6t::launcher {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string SourceDir() {
  const char* s = std::getenv("K6T_SOURCE_DIR");
  return s ? s : ".";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs virt-xml-validate on `xml`; returns its exit status and output.
std::pair<int, std::string> Validate(const std::string& xml) {
  char path[] = "/tmp/k6t-domain-XXXXXX.xml";
  int fd = mkstemps(path, 4);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, xml.data(), xml.size()), static_cast<ssize_t>(xml.size()));
  close(fd);
  std::string cmd = std::string("virt-xml-validate ") + path + " domain 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[512];
  while (p && fgets(buf, sizeof(buf), p)) out += buf;
  int st = p ? pclose(p) : -1;
  unlink(path);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

void ExpectGolden(const std::string& name, const std::string& xml) {
  const std::string path = SourceDir() + "/test/unit/launcher/golden/" + name + ".xml";
  if (std::getenv("K6T_UPDATE_GOLDEN")) {
    std::ofstream(path) << xml;
  }
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " missing; run with K6T_UPDATE_GOLDEN=1";
  EXPECT_EQ(xml, ReadFile(path)) << "golden " << path;
  auto [rc, out] = Validate(xml);
  EXPECT_EQ(rc, 0) << "virt-xml-validate rejected " << name << ":\n" << out << "\n" << xml;
}

api::Vmi BaseVmi(const std::string& name) {
  api::Vmi vmi;
  vmi.kind = "VirtualMachineInstance";
  vmi.meta.name = name;
  vmi.meta.namespace_ = "default";
  vmi.meta.uid = "6a1c5f3e-2b8d-4c1a-9f0e-3d2b1a0c9e8f";
  return vmi;
}

api::Interface Iface(const std::string& name, api::BindingMethod b) {
  api::Interface i;
  i.name = name;
  i.bindings = {b};
  return i;
}

binding::InterfacePlan TapPlan(const std::string& iface, const std::string& tap,
                               const std::string& mac, const std::string& binding, int mtu) {
  binding::InterfacePlan p;
  p.interface_name = iface;
  p.binding = binding;
  p.mac = mac;
  p.mtu = mtu;
  binding::GuestDevice d;
  d.kind = binding::DeviceKind::kTap;
  d.alias = "ua-" + iface;
  d.mac = mac;
  d.model = "virtio-non-transitional";
  d.tap = tap;
  d.mtu = mtu;
  p.device = d;
  return p;
}

DomainOptions Options() {
  DomainOptions o;
  o.accel = Accel::kTcg;
  o.guest_kernel = "/var/cache/k6t/guest/vmlinuz";
  o.guest_initrd = "/var/cache/k6t/guest/initrd.cpio.gz";
  o.serial_log = "/var/run/k6t/vmi/serial.log";
  o.serial_socket = "/var/run/k6t/vmi/serial0.sock";
  o.guest_agent_socket = "/var/run/k6t/vmi/qga.sock";
  o.vnc_socket = "/var/run/k6t/vmi/vnc.sock";
  return o;
}

TEST(DomainXml, MasqueradeTapDefaultGuest) {
  api::Vmi vmi = BaseVmi("testvmi");
  vmi.spec.domain.interfaces = {Iface("default", api::BindingMethod::kMasquerade)};
  vmi.spec.networks = {api::Network{"default", api::PodNetwork{}, {}, {}}};
  auto xml = GenerateDomainXml(
      vmi, {TapPlan("default", "tap0", "02:aa:bb:cc:dd:01", "masquerade", 1400)}, Options());
  ASSERT_TRUE(xml.ok()) << xml.status();
  EXPECT_THAT(*xml, HasSubstr("<name>default_testvmi</name>"));
  EXPECT_THAT(*xml, HasSubstr("<domain type='qemu'>"));
  EXPECT_THAT(*xml, HasSubstr("<cmdline>console=ttyS0 panic=-1 quiet</cmdline>"));
  EXPECT_THAT(*xml, HasSubstr("<target dev='tap0' managed='no'/>"));
  ExpectGolden("masquerade_tap", *xml);
}

TEST(DomainXml, BridgeSecondaryKvmTopologyAndKernelArgs) {
  api::Vmi vmi = BaseVmi("bridged");
  vmi.meta.namespace_ = "team-a";
  vmi.spec.domain.cpu = {1, 2, 2};
  vmi.spec.domain.memory_bytes = int64_t{3} << 30;
  vmi.spec.domain.kernel_boot = api::KernelBoot{"", "", "k6t.net=dhcp"};
  vmi.spec.domain.interfaces = {Iface("default", api::BindingMethod::kMasquerade),
                                Iface("blue", api::BindingMethod::kBridge)};
  vmi.spec.networks = {api::Network{"default", api::PodNetwork{}, {}, {}},
                       api::Network{"blue", {}, api::MultusNetwork{"blue-net", false}, {}}};
  // Plans arrive sorted by name (the cache's order); the domain follows the VMI's order.
  std::vector<binding::InterfacePlan> plans = {
      TapPlan("blue", "tap16477688c0e", "02:aa:bb:cc:dd:02", "bridge", 1500),
      TapPlan("default", "tap0", "02:aa:bb:cc:dd:01", "masquerade", 1400)};
  plans[0].device->mtu = 0;
  plans[0].device->queues = 4;
  plans[0].device->vhost = true;
  plans[0].device->link_up = false;
  DomainOptions o = Options();
  o.accel = Accel::kKvm;
  auto xml = GenerateDomainXml(vmi, plans, o);
  ASSERT_TRUE(xml.ok()) << xml.status();
  EXPECT_THAT(*xml, HasSubstr("<domain type='kvm'>"));
  EXPECT_THAT(*xml, HasSubstr("host-passthrough"));
  EXPECT_THAT(*xml, HasSubstr("<vcpu placement='static'>4</vcpu>"));
  EXPECT_THAT(*xml, HasSubstr("console=ttyS0 panic=-1 quiet k6t.net=dhcp"));
  // No /dev/vhost-net: vhost is never requested.
  EXPECT_THAT(*xml, Not(HasSubstr("name='vhost'")));
  EXPECT_THAT(*xml, HasSubstr("<driver name='qemu' queues='4'/>"));
  EXPECT_LT(xml->find("ua-default"), xml->find("ua-blue"));
  ExpectGolden("bridge_secondary", *xml);

  o.vhost_net = true;
  auto with_vhost = GenerateDomainXml(vmi, plans, o);
  ASSERT_TRUE(with_vhost.ok());
  EXPECT_THAT(*with_vhost, HasSubstr("<driver name='vhost' queues='4'/>"));
}

TEST(DomainXml, SriovHostdevAndDisks) {
  api::Vmi vmi = BaseVmi("sriov");
  vmi.spec.domain.interfaces = {Iface("default", api::BindingMethod::kMasquerade),
                                Iface("sriov-net", api::BindingMethod::kSriov)};
  vmi.spec.networks = {api::Network{"default", api::PodNetwork{}, {}, {}},
                       api::Network{"sriov-net", {}, api::MultusNetwork{"sriov-a", false}, {}}};
  api::Disk root;
  root.name = "rootdisk";
  root.image_path = "/var/lib/images/root.qcow2";
  root.boot_order = 1;
  api::Disk data;
  data.name = "data";
  data.bus = "sata";
  data.image_path = "/var/lib/images/data.img";
  vmi.spec.domain.disks = {root, data};
  binding::InterfacePlan sriov;
  sriov.interface_name = "sriov-net";
  sriov.binding = "sriov";
  sriov.device = binding::GuestDevice{};
  sriov.device->kind = binding::DeviceKind::kHostdev;
  sriov.device->alias = "ua-sriov-sriov-net";
  sriov.device->host_pci_address = "0000:65:00.2";
  auto xml = GenerateDomainXml(
      vmi, {TapPlan("default", "tap0", "02:aa:bb:cc:dd:01", "masquerade", 1500), sriov}, Options());
  ASSERT_TRUE(xml.ok()) << xml.status();
  EXPECT_THAT(*xml, Not(HasSubstr("<kernel>")));
  EXPECT_THAT(*xml, Not(HasSubstr("<boot dev=")));  // per-device boot order wins
  EXPECT_THAT(*xml, HasSubstr("type='qcow2'"));
  EXPECT_THAT(*xml, HasSubstr("<target dev='sda' bus='sata'/>"));
  ExpectGolden("sriov_hostdev", *xml);
}

TEST(DomainXml, PasstThroughQemuCommandline) {
  api::Vmi vmi = BaseVmi("passt");
  vmi.spec.domain.interfaces = {Iface("default", api::BindingMethod::kPasst)};
  vmi.spec.networks = {api::Network{"default", api::PodNetwork{}, {}, {}}};
  binding::InterfacePlan p;
  p.interface_name = "default";
  p.binding = "passt";
  p.mac = "02:aa:bb:cc:dd:03";
  p.mtu = 1450;
  p.passt = binding::PasstPlan{"eth0", {{"tcp", 8080}}, 1450};
  p.device = binding::GuestDevice{};
  p.device->kind = binding::DeviceKind::kPasst;
  p.device->alias = "ua-default";
  p.device->mac = "02:aa:bb:cc:dd:03";
  p.device->model = "virtio";
  p.device->mtu = 1450;
  DomainOptions o = Options();
  auto missing = GenerateDomainXml(vmi, {p}, o);
  EXPECT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("\"default\""));
  o.passt_sockets["default"] = "/var/run/k6t/vmi/passt/default.sock";
  auto xml = GenerateDomainXml(vmi, {p}, o);
  ASSERT_TRUE(xml.ok()) << xml.status();
  EXPECT_THAT(*xml, HasSubstr("xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'"));
  EXPECT_THAT(*xml, HasSubstr("stream,id=k6tpasst0,server=off,addr.type=unix,addr.path=/var/run/"
                              "k6t/vmi/passt/default.sock"));
  EXPECT_THAT(*xml, HasSubstr("virtio-net-pci,netdev=k6tpasst0,mac=02:aa:bb:cc:dd:03"));
  EXPECT_THAT(*xml, Not(HasSubstr("<interface")));
  ExpectGolden("passt", *xml);

  o.native_passt = true;
  auto native = GenerateDomainXml(vmi, {p}, o);
  ASSERT_TRUE(native.ok());
  EXPECT_THAT(*native, HasSubstr("<backend type='passt'/>"));
  EXPECT_THAT(*native, Not(HasSubstr("qemu:commandline")));
  EXPECT_THAT(*native, HasSubstr("<range start='8080'/>"));
}

TEST(DomainXml, EveryDeviceFieldIsValidLibvirtXml) {
  api::Vmi vmi = BaseVmi("full");
  vmi.spec.domain.interfaces = {Iface("default", api::BindingMethod::kMasquerade),
                                Iface("vf", api::BindingMethod::kSriov)};
  api::Disk scsi;
  scsi.name = "data";
  scsi.bus = "scsi";
  scsi.image_path = "/var/lib/images/data.qcow2";
  vmi.spec.domain.disks = {scsi};
  binding::InterfacePlan nic = TapPlan("default", "tap0", "02:aa:bb:cc:dd:01", "masquerade", 1400);
  nic.device->queues = 2;
  nic.device->vhost = true;
  nic.device->link_up = false;
  nic.device->boot_order = 1;
  nic.device->guest_pci_address = "0000:02:00.0";
  nic.device->acpi_index = 4;
  binding::InterfacePlan vf;
  vf.interface_name = "vf";
  vf.binding = "sriov";
  vf.device = binding::GuestDevice{};
  vf.device->kind = binding::DeviceKind::kHostdev;
  vf.device->alias = "ua-sriov-vf";
  vf.device->host_pci_address = "0000:65:00.2";
  vf.device->boot_order = 2;
  vf.device->guest_pci_address = "0000:03:00.0";
  DomainOptions o = Options();
  o.serial_log.clear();
  o.serial_socket.clear();
  o.vhost_net = true;
  auto xml = GenerateDomainXml(vmi, {nic, vf}, o);
  ASSERT_TRUE(xml.ok()) << xml.status();
  EXPECT_THAT(*xml, HasSubstr("<driver name='vhost' queues='2'/>"));
  EXPECT_THAT(*xml, HasSubstr("<acpi index='4'/>"));
  EXPECT_THAT(*xml, HasSubstr("<controller type='scsi' model='virtio-scsi'/>"));
  EXPECT_THAT(*xml, HasSubstr("<serial type='pty'>"));
  auto [rc, out] = Validate(*xml);
  EXPECT_EQ(rc, 0) << out << "\n" << *xml;
}

TEST(DomainXml, PlanWithoutADeviceIsAnErrorNamingTheInterface) {
  api::Vmi vmi = BaseVmi("x");
  vmi.spec.domain.interfaces = {Iface("default", api::BindingMethod::kMasquerade)};
  binding::InterfacePlan old = TapPlan("default", "tap0", "02:00:00:00:00:01", "masquerade", 1500);
  old.device.reset();  // as read from a schema-1 cache
  auto xml = GenerateDomainXml(vmi, {old}, Options());
  ASSERT_FALSE(xml.ok());
  EXPECT_EQ(xml.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(xml.status().message()), HasSubstr("domain XML: interface \"default\""));
  EXPECT_THAT(std::string(xml.status().message()), HasSubstr("k6t-handler setup"));
}

TEST(DomainXml, MissingPlanIsAnErrorNamingTheInterface) {
  api::Vmi vmi = BaseVmi("x");
  vmi.spec.domain.interfaces = {Iface("default", api::BindingMethod::kMasquerade),
                                Iface("red", api::BindingMethod::kBridge)};
  auto xml = GenerateDomainXml(
      vmi, {TapPlan("default", "tap0", "02:00:00:00:00:01", "masquerade", 1500)}, Options());
  ASSERT_FALSE(xml.ok());
  EXPECT_THAT(std::string(xml.status().message()), HasSubstr("\"red\""));
  // An absent interface needs no plan.
  vmi.spec.domain.interfaces[1].state = "absent";
  EXPECT_TRUE(
      GenerateDomainXml(vmi, {TapPlan("default", "tap0", "02:00:00:00:00:01", "masquerade", 1500)},
                        Options())
          .ok());
}

// KubeVirt's autoattach switches: a VNC display and a serial console unless the VMI says no.
TEST(DomainXml, AutoattachSwitchesDropTheDisplayAndTheConsole) {
  api::Vmi vmi = BaseVmi("quiet");
  vmi.spec.domain.interfaces = {Iface("default", api::BindingMethod::kMasquerade)};
  vmi.spec.networks = {api::Network{"default", api::PodNetwork{}, {}, {}}};
  const auto plans =
      std::vector{TapPlan("default", "tap0", "02:aa:bb:cc:dd:01", "masquerade", 1400)};
  auto xml = GenerateDomainXml(vmi, plans, Options());
  ASSERT_TRUE(xml.ok()) << xml.status();
  EXPECT_THAT(*xml, HasSubstr("<listen type='socket' socket='/var/run/k6t/vmi/vnc.sock'/>"));
  EXPECT_THAT(*xml, HasSubstr("<model type='vga' vram='16384' heads='1'/>"));
  EXPECT_THAT(*xml, HasSubstr("<serial type='unix'>"));

  vmi.spec.domain.autoattach_graphics_device = false;
  vmi.spec.domain.autoattach_serial_console = false;
  xml = GenerateDomainXml(vmi, plans, Options());
  ASSERT_TRUE(xml.ok()) << xml.status();
  EXPECT_THAT(*xml, Not(HasSubstr("<graphics")));
  EXPECT_THAT(*xml, Not(HasSubstr("<video")));
  EXPECT_THAT(*xml, Not(HasSubstr("<serial")));
  EXPECT_THAT(*xml, Not(HasSubstr("<console")));
  auto [rc, out] = Validate(*xml);
  EXPECT_EQ(rc, 0) << out << "\n" << *xml;
}

TEST(DomainXml, NoKernelNoDiskNeedsTheDefaultGuest) {
  api::Vmi vmi = BaseVmi("x");
  DomainOptions o = Options();
  o.guest_kernel.clear();
  auto xml = GenerateDomainXml(vmi, {}, o);
  ASSERT_FALSE(xml.ok());
  EXPECT_THAT(std::string(xml.status().message()), HasSubstr("build-guest"));
}

TEST(DomainXml, AutoAccelMustBeResolved) {
  DomainOptions o = Options();
  o.accel = Accel::kAuto;
  EXPECT_FALSE(GenerateDomainXml(BaseVmi("x"), {}, o).ok());
}

TEST(DomainXml, UuidFromUidOrDerivedStably) {
  api::Vmi vmi = BaseVmi("x");
  EXPECT_EQ(DomainUuid(vmi), "6a1c5f3e-2b8d-4c1a-9f0e-3d2b1a0c9e8f");
  vmi.meta.uid = "not-a-uuid";
  const std::string a = DomainUuid(vmi);
  EXPECT_EQ(a, DomainUuid(vmi));
  EXPECT_EQ(a.size(), 36u);
  vmi.meta.uid = "not-a-uuid-2";
  EXPECT_NE(a, DomainUuid(vmi));
  // A derived UUID is accepted by libvirt's schema.
  auto xml = GenerateDomainXml(vmi, {}, Options());
  ASSERT_TRUE(xml.ok());
  EXPECT_EQ(Validate(*xml).first, 0) << *xml;
}

TEST(DomainXml, HotplugPolicy) {
  EXPECT_EQ(HotplugRootPorts(0, 256 << 20), 8);
  EXPECT_EQ(HotplugRootPorts(2, 256 << 20), 6);
  EXPECT_EQ(HotplugRootPorts(7, 256 << 20), 3);
  EXPECT_EQ(HotplugRootPorts(2, int64_t{4} << 30), 14);
  EXPECT_EQ(HotplugRootPorts(12, int64_t{4} << 30), 6);
  EXPECT_EQ(HotplugRootPorts(28, 256 << 20), 2);  // capped at 30 root ports
  api::Vmi vmi = BaseVmi("x");
  vmi.spec.domain.interfaces = {Iface("default", api::BindingMethod::kMasquerade)};
  auto xml = GenerateDomainXml(
      vmi, {TapPlan("default", "tap0", "02:00:00:00:00:01", "masquerade", 1500)}, Options());
  ASSERT_TRUE(xml.ok());
  size_t ports = 0;
  for (size_t pos = 0; (pos = xml->find("pcie-root-port", pos)) != std::string::npos; ++pos)
    ++ports;
  EXPECT_EQ(ports, 1u + 7u);  // one for the NIC, max(8 - 1, 3) free
}

TEST(DomainXml, ValidatorRejectsBrokenDocuments) {
  // Guards the validation above: a broken document must fail.
  auto [rc, out] = Validate("<domain type='qemu'><name>x</name><bogus/></domain>");
  EXPECT_NE(rc, 0) << out;
}

TEST(DomainXml, EscapesUserText) {
  api::Vmi vmi = BaseVmi("x");
  vmi.spec.domain.kernel_boot = api::KernelBoot{"", "", "a='b' <c> & d"};
  auto xml = GenerateDomainXml(vmi, {}, Options());
  ASSERT_TRUE(xml.ok());
  EXPECT_THAT(*xml, HasSubstr("a=&apos;b&apos; &lt;c&gt; &amp; d"));
  EXPECT_EQ(Validate(*xml).first, 0);
}

}  // namespace
}  // namespace k6t::launcher
