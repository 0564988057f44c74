#include "domain_xml.h"

#include "absl/strings/str_cat.h"
#include "domain/devices.h"
#include "domain/disks.h"
#include "domain/machine.h"
#include "k6t/domxml/xml.h"

namespace k6t::launcher {
namespace {

absl::Status InDomainXml(const absl::Status& st) {
  return absl::Status(st.code(), absl::StrCat("domain XML: ", st.message()));
}

// The document for options already adjusted to the VMI.
absl::StatusOr<std::string> Generate(const api::Vmi& vmi,
                                     const std::vector<binding::InterfacePlan>& plans,
                                     const DomainOptions& options) {
  auto nics = LayOutNics(vmi, plans, options);
  if (!nics.ok()) return InDomainXml(nics.status());
  auto storage = LayOutStorage(vmi, options);
  if (!storage.ok()) return InDomainXml(storage.status());

  domxml::XmlDocument doc("domain");
  auto os = AppendMachine(doc.root(), vmi, options);
  if (!os.ok()) return InDomainXml(os.status());
  AppendBootSource(*os, storage->boot);
  // The virtio-serial controller of the guest agent's channel takes a root port too.
  const int root_ports =
      RootPorts(nics->root_ports + storage->root_ports +
                    (options.guest_agent_socket.empty() ? 0 : kGuestAgentRootPorts),
                MemoryBytes(vmi.spec.domain), options);
  if (auto st = AppendDevices(doc.root(), *storage, *nics, root_ports, options); !st.ok())
    return InDomainXml(st);
  return doc.Emit();
}

}  // namespace

absl::StatusOr<std::string> GenerateDomainXml(const api::Vmi& vmi,
                                              const std::vector<binding::InterfacePlan>& plans,
                                              const DomainOptions& options) {
  if (options.accel == Accel::kAuto)
    return absl::InvalidArgumentError("domain XML: accelerator must be resolved (kvm or tcg)");
  // What the VMI turns off of the launcher's defaults.
  DomainOptions effective = options;
  if (!vmi.spec.domain.autoattach_graphics_device.value_or(true)) effective.vnc_socket.clear();
  effective.serial_console = vmi.spec.domain.autoattach_serial_console.value_or(true);
  return Generate(vmi, plans, effective);
}

}  // namespace k6t::launcher
