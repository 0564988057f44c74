#include "bindings/sriov.h"

#include "absl/strings/str_cat.h"
#include "bindings/devices.h"

namespace k6t::binding {
namespace {

class SriovBinding : public Binding {
 public:
  bool NeedsPodLink() const override { return false; }

  absl::Status Plan(const BindingInput& in, InterfacePlan& plan) const override {
    std::string pci;
    if (in.status && in.status->device_info && in.status->device_info->pci)
      pci = in.status->device_info->pci->pci_address;
    if (pci.empty() && in.network_info && in.network_info->device_info &&
        in.network_info->device_info->pci)
      pci = in.network_info->device_info->pci->pci_address;
    if (pci.empty())
      return absl::FailedPreconditionError(absl::StrCat(
          "no VF PCI address for SR-IOV network \"", in.network.name,
          "\": network-status has no device-info.pci.pci-address for it and the network-info "
          "file has none either (is the SR-IOV device plugin running?)"));
    auto vf = VfHostdev(in.iface, in.network.name, pci);
    if (!vf.ok()) return vf.status();
    plan.device = *std::move(vf);
    plan.mac = in.iface.mac_address;
    plan.pod_interface = "";
    plan.notes.push_back(absl::StrCat("VF ", pci, " is passed through; nothing in the pod"));
    return absl::OkStatus();
  }
};

}  // namespace

std::shared_ptr<const Binding> NewSriovBinding() { return std::make_shared<SriovBinding>(); }

}  // namespace k6t::binding
