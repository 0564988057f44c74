// Vmi -> canonical VirtualMachineInstance JSON (what the RPC carries).
#include "encode_volumes.h"
#include "k6t/api/decode.h"
#include "nlohmann/json.hpp"

namespace k6t::api {
namespace {

using nlohmann::json;

json InterfaceJson(const Interface& i) {
  json o = {{"name", i.name}};
  if (!i.model.empty()) o["model"] = i.model;
  for (BindingMethod m : i.bindings) {
    o[BindingMethodField(m)] =
        m == BindingMethod::kPlugin ? json{{"name", i.plugin_name}} : json::object();
  }
  if (!i.ports.empty()) {
    json ports = json::array();
    for (const auto& p : i.ports) {
      json x = {{"port", p.port}};
      if (!p.name.empty()) x["name"] = p.name;
      if (!p.protocol.empty()) x["protocol"] = p.protocol;
      ports.push_back(x);
    }
    o["ports"] = ports;
  }
  if (!i.port_ranges.empty()) {
    json ranges = json::array();
    for (const auto& r : i.port_ranges) {
      json x = {{"start", r.start}, {"end", r.end}};
      if (!r.protocol.empty()) x["protocol"] = r.protocol;
      ranges.push_back(x);
    }
    o["portRanges"] = ranges;
  }
  if (!i.mac_address.empty()) o["macAddress"] = i.mac_address;
  if (i.boot_order) o["bootOrder"] = *i.boot_order;
  if (!i.pci_address.empty()) o["pciAddress"] = i.pci_address;
  if (i.acpi_index) o["acpiIndex"] = *i.acpi_index;
  if (i.dhcp_options) {
    const DhcpOptions& d = *i.dhcp_options;
    json x = json::object();
    if (!d.boot_file_name.empty()) x["bootFileName"] = d.boot_file_name;
    if (!d.tftp_server_name.empty()) x["tftpServerName"] = d.tftp_server_name;
    if (!d.ntp_servers.empty()) x["ntpServers"] = d.ntp_servers;
    if (!d.private_options.empty()) {
      json po = json::array();
      for (const auto& p : d.private_options)
        po.push_back({{"option", p.option}, {"value", p.value}});
      x["privateOptions"] = po;
    }
    o["dhcpOptions"] = x;
  }
  if (!i.tag.empty()) o["tag"] = i.tag;
  if (!i.state.empty()) o["state"] = i.state;
  if (i.mtu) o["mtu"] = *i.mtu;
  return o;
}

json NetworkJson(const Network& n) {
  json o = {{"name", n.name}};
  if (n.pod) {
    json p = json::object();
    if (!n.pod->vm_network_cidr.empty()) p["vmNetworkCIDR"] = n.pod->vm_network_cidr;
    if (!n.pod->vm_ipv6_network_cidr.empty()) p["vmIPv6NetworkCIDR"] = n.pod->vm_ipv6_network_cidr;
    o["pod"] = p;
  }
  if (n.multus) {
    json m = {{"networkName", n.multus->network_name}};
    if (n.multus->is_default) m["default"] = true;
    o["multus"] = m;
  }
  if (n.resource_claim)
    o["resourceClaim"] = {{"claimName", n.resource_claim->claim_name},
                          {"requestName", n.resource_claim->request_name}};
  return o;
}

}  // namespace

std::string EncodeVmiJson(const Vmi& vmi) {
  const Domain& d = vmi.spec.domain;
  json meta = {{"name", vmi.meta.name}, {"namespace", vmi.meta.namespace_}};
  if (!vmi.meta.uid.empty()) meta["uid"] = vmi.meta.uid;
  if (!vmi.meta.labels.empty()) meta["labels"] = vmi.meta.labels;
  if (!vmi.meta.annotations.empty()) meta["annotations"] = vmi.meta.annotations;

  json devices = {{"autoattachPodInterface", d.autoattach_pod_interface}};
  if (d.network_interface_multiqueue) devices["networkInterfaceMultiqueue"] = true;
  if (d.use_virtio_transitional) devices["useVirtioTransitional"] = true;
  json ifaces = json::array();
  for (const auto& i : d.interfaces) ifaces.push_back(InterfaceJson(i));
  devices["interfaces"] = ifaces;
  if (d.autoattach_graphics_device)
    devices["autoattachGraphicsDevice"] = *d.autoattach_graphics_device;
  if (d.autoattach_serial_console)
    devices["autoattachSerialConsole"] = *d.autoattach_serial_console;
  if (!d.disks.empty()) devices["disks"] = internal::DisksJson(d.disks);

  json domain = {
      {"cpu", {{"sockets", d.cpu.sockets}, {"cores", d.cpu.cores}, {"threads", d.cpu.threads}}},
      {"devices", devices}};
  if (d.memory_bytes > 0) domain["memory"] = {{"guest", std::to_string(d.memory_bytes)}};
  if (d.kernel_boot) {
    json kb = json::object();
    if (!d.kernel_boot->kernel_args.empty()) kb["kernelArgs"] = d.kernel_boot->kernel_args;
    json c = json::object();
    if (!d.kernel_boot->kernel_path.empty()) c["kernelPath"] = d.kernel_boot->kernel_path;
    if (!d.kernel_boot->initrd_path.empty()) c["initrdPath"] = d.kernel_boot->initrd_path;
    kb["container"] = c;
    domain["firmware"] = {{"kernelBoot", kb}};
  }
  if (!d.firmware_uuid.empty()) domain["firmware"]["uuid"] = d.firmware_uuid;
  json spec = {{"domain", domain}};
  json nets = json::array();
  for (const auto& n : vmi.spec.networks) nets.push_back(NetworkJson(n));
  spec["networks"] = nets;
  if (!vmi.spec.volumes.empty()) spec["volumes"] = internal::VolumesJson(vmi.spec.volumes);
  if (!vmi.spec.hostname.empty()) spec["hostname"] = vmi.spec.hostname;
  if (!vmi.spec.subdomain.empty()) spec["subdomain"] = vmi.spec.subdomain;
  if (!vmi.spec.resource_claims.empty()) {
    json claims = json::array();
    for (const auto& c : vmi.spec.resource_claims) claims.push_back({{"name", c}});
    spec["resourceClaims"] = claims;
  }
  json doc = {{"apiVersion", "kubevirt.io/v1"},
              {"kind", "VirtualMachineInstance"},
              {"metadata", meta},
              {"spec", spec}};
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace k6t::api
