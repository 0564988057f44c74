#include "domain_fragment.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "k6t/api/net.h"

namespace k6t::binding {

std::string XmlEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string LibvirtModel(const api::Vmi& vmi, const api::Interface& iface) {
  if (iface.model.empty() || iface.model == "virtio")
    return vmi.spec.domain.use_virtio_transitional ? "virtio-transitional"
                                                   : "virtio-non-transitional";
  return iface.model;
}

absl::StatusOr<std::string> PciAddressXml(const std::string& address) {
  auto pci = api::PciAddress::Parse(address);
  if (!pci.ok()) return pci.status();
  return absl::StrFormat(
      "<address type='pci' domain='0x%04x' bus='0x%02x' slot='0x%02x' "
      "function='0x%x'/>",
      pci->domain, pci->bus, pci->slot, pci->function);
}

std::string TapInterfaceXml(const api::Vmi& vmi, const api::Interface& iface,
                            const TapDevice& dev) {
  std::string x = "<interface type='ethernet'>\n";
  if (!dev.mac.empty()) absl::StrAppend(&x, "  <mac address='", XmlEscape(dev.mac), "'/>\n");
  absl::StrAppend(&x, "  <target dev='", XmlEscape(dev.tap), "' managed='no'/>\n");
  absl::StrAppend(&x, "  <model type='", XmlEscape(LibvirtModel(vmi, iface)), "'/>\n");
  if (dev.queues > 1)
    absl::StrAppend(&x, "  <driver name='", dev.vhost_net ? "vhost" : "qemu", "' queues='",
                    dev.queues, "'/>\n");
  if (dev.mtu > 0) absl::StrAppend(&x, "  <mtu size='", dev.mtu, "'/>\n");
  if (iface.state == "down") x += "  <link state='down'/>\n";
  if (iface.boot_order)
    absl::StrAppend(&x, "  <boot order='", *iface.boot_order, "'/>\n");
  else
    x += "  <rom enabled='no'/>\n";
  absl::StrAppend(&x, "  <alias name='ua-", XmlEscape(iface.name), "'/>\n");
  if (!iface.pci_address.empty()) {
    // Validation has checked the form; a bad one here is left out rather than emitted.
    if (auto a = PciAddressXml(iface.pci_address); a.ok()) absl::StrAppend(&x, "  ", *a, "\n");
  }
  if (iface.acpi_index && *iface.acpi_index > 0)
    absl::StrAppend(&x, "  <acpi index='", *iface.acpi_index, "'/>\n");
  x += "</interface>\n";
  return x;
}

absl::StatusOr<std::string> SriovHostdevXml(const api::Interface& iface,
                                            const std::string& network_name,
                                            const std::string& pci_address) {
  auto source = PciAddressXml(pci_address);
  if (!source.ok())
    return absl::InvalidArgumentError(absl::StrCat("SR-IOV VF address of network \"", network_name,
                                                   "\": ", source.status().message()));
  // libvirt's schema takes the host address of a PCI hostdev without a type attribute.
  std::string host = *source;
  host.replace(host.find(" type='pci'"), 11, "");
  std::string x = "<hostdev mode='subsystem' type='pci' managed='no'>\n";
  absl::StrAppend(&x, "  <source>\n    ", host, "\n  </source>\n");
  if (iface.boot_order) absl::StrAppend(&x, "  <boot order='", *iface.boot_order, "'/>\n");
  absl::StrAppend(&x, "  <alias name='ua-sriov-", XmlEscape(network_name), "'/>\n");
  if (!iface.pci_address.empty()) {
    if (auto a = PciAddressXml(iface.pci_address); a.ok()) absl::StrAppend(&x, "  ", *a, "\n");
  }
  x += "</hostdev>\n";
  return x;
}

}  // namespace k6t::binding
