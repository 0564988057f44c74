#include "launcher_env.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace k6t::launcher::test {

binding::InterfacePlan TapPlan(const std::string& name, const std::string& mac) {
  binding::InterfacePlan p;
  p.interface_name = name;
  p.network_name = name;
  p.binding = name == "default" ? "masquerade" : "bridge";
  p.mac = mac;
  p.mtu = 1500;
  binding::GuestDevice nic;
  nic.kind = binding::DeviceKind::kTap;
  nic.alias = absl::StrCat("ua-", name);
  nic.mac = mac;
  nic.model = "virtio-non-transitional";
  nic.tap = absl::StrCat("tap", name);
  p.device = nic;
  binding::DhcpPlan dhcp;
  dhcp.bridge = absl::StrCat("k6t-", name);
  dhcp.client_mac = mac;
  p.dhcp = dhcp;
  return p;
}

std::optional<Outcome> WaitEnd(Launcher& l, absl::Duration within) {
  const absl::Time deadline = absl::Now() + within;
  while (absl::Now() < deadline)
    if (auto o = l.Wait(absl::Milliseconds(50))) return o;
  return std::nullopt;
}

std::string MinimalDomainXml(const std::string& name) {
  return absl::StrCat(
      "<domain type='qemu'>\n  <name>", name,
      "</name>\n  <devices>\n    <controller type='pci' index='0' model='pcie-root'/>\n"
      "    <controller type='pci' index='1' model='pcie-root-port'/>\n"
      "    <controller type='pci' index='2' model='pcie-root-port'/>\n",
      "    <interface type='ethernet'>\n      <mac address='02:00:00:00:00:01'/>\n"
      "      <target dev='tap0' managed='no'/>\n      <alias name='ua-default'/>\n"
      "    </interface>\n  </devices>\n</domain>\n");
}

LauncherEnv::LauncherEnv() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "k6t-launcher-XXXXXX").string();
  const char* made = mkdtemp(tmpl.data());
  EXPECT_NE(made, nullptr);
  root_ = tmpl;
  state_dir = root_ + "/state";
  std::filesystem::create_directories(state_dir);

  vmi.kind = "VirtualMachineInstance";
  vmi.meta.name = "vm";
  vmi.meta.namespace_ = "default";
  vmi.meta.uid = "6a1c5f3e-2b8d-4c1a-9f0e-3d2b1a0c9e8f";
  api::Interface primary;
  primary.name = "default";
  primary.bindings = {api::BindingMethod::kMasquerade};
  vmi.spec.domain.interfaces = {primary};
  api::Network pod;
  pod.name = "default";
  pod.pod = api::PodNetwork{};
  vmi.spec.networks = {pod};
  CachePlan(TapPlan("default", "02:00:00:00:00:01"));

  options.state_dir = state_dir;
  options.libvirt = libvirt;
  options.libvirt_uri = "test:///k6t-fake";
  options.accel = Accel::kTcg;
  options.guest_dir = root_ + "/guest";  // named in the XML only: the fake boots nothing
  options.caps_cache_root = "";
  options.qemu_user = absl::StrCat(getuid(), ":", getgid());
}

LauncherEnv::~LauncherEnv() {
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

void LauncherEnv::CachePlan(const binding::InterfacePlan& plan, binding::PlumbingPhase phase) {
  ASSERT_TRUE(binding::WriteCachedInterface(state_dir, {plan, phase}).ok());
}

void LauncherEnv::AddInterface(const std::string& name, const std::string& mac) {
  api::Interface i;
  i.name = name;
  i.bindings = {api::BindingMethod::kBridge};
  vmi.spec.domain.interfaces.push_back(i);
  api::Network n;
  n.name = name;
  n.multus = api::MultusNetwork{name + "-net", false};
  vmi.spec.networks.push_back(n);
  CachePlan(TapPlan(name, mac));
}

std::unique_ptr<Launcher> LauncherEnv::NewLauncher() const {
  return std::make_unique<Launcher>(options, vmi);
}

}  // namespace k6t::launcher::test
