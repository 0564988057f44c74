// Human-readable one-liners for plan operations and guest devices (plan output, logs).
#include "absl/strings/str_cat.h"
#include "k6t/binding/plan.h"

namespace k6t::binding {
namespace {

std::string Opt(const char* key, const std::string& v) {
  return v.empty() ? "" : absl::StrCat(" ", key, "=", v);
}
std::string Opt(const char* key, int v) { return v == 0 ? "" : absl::StrCat(" ", key, "=", v); }

struct Describer {
  std::string operator()(const CreateBridge& o) const {
    return absl::StrCat("create bridge ", o.name, Opt("mac", o.mac), Opt("mtu", o.mtu));
  }
  std::string operator()(const CreateTap& o) const {
    return absl::StrCat("create tap ", o.name, " owner=", o.owner, " group=", o.group,
                        " queues=", o.queues, Opt("mtu", o.mtu));
  }
  std::string operator()(const CreatePlaceholder& o) const {
    return absl::StrCat("create ", o.kind == PlaceholderKind::kDummy ? "dummy " : "ifb ", o.name,
                        " (down)", Opt("mac", o.mac), Opt("mtu", o.mtu));
  }
  std::string operator()(const RenameLink& o) const {
    return absl::StrCat("rename ", o.from, " -> ", o.to);
  }
  std::string operator()(const SetLinkMac& o) const {
    return absl::StrCat("set ", o.link, " mac ", o.mac);
  }
  std::string operator()(const SetLinkMtu& o) const {
    return absl::StrCat("set ", o.link, " mtu ", o.mtu);
  }
  std::string operator()(const SetLinkMaster& o) const {
    return absl::StrCat("set ", o.link, " master ", o.master);
  }
  std::string operator()(const SetLinkUp& o) const {
    return absl::StrCat("set ", o.link, o.up ? " up" : " down");
  }
  std::string operator()(const SetPortLearning& o) const {
    return absl::StrCat("set ", o.link, " learning ", o.learning ? "on" : "off");
  }
  std::string operator()(const AddAddress& o) const {
    return absl::StrCat("add address ", o.cidr, " dev ", o.link);
  }
  std::string operator()(const FlushAddresses& o) const {
    return absl::StrCat("flush addresses dev ", o.link, o.link_local ? " (incl. link-local)" : "");
  }
  std::string operator()(const AddRoute& o) const {
    return absl::StrCat("add route ", o.destination, o.gateway.empty() ? "" : " via ", o.gateway,
                        " dev ", o.link);
  }
  std::string operator()(const DeleteLink& o) const {
    return absl::StrCat("delete ", o.kind, " ", o.name);
  }
  std::string operator()(const DeleteNftTable& o) const {
    return absl::StrCat("nft delete table ", o.family, " ", o.name);
  }
  std::string operator()(const SetSysctl& o) const {
    return absl::StrCat("sysctl net/", o.key, " = ", o.value);
  }
  std::string operator()(const NftTable& o) const {
    return absl::StrCat("nft replace table ", o.family, " ", o.name);
  }
};

}  // namespace

std::string Describe(const Operation& op) { return std::visit(Describer{}, op); }

const char* DeviceKindName(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::kTap:
      return "tap";
    case DeviceKind::kHostdev:
      return "hostdev";
    case DeviceKind::kPasst:
      return "passt";
  }
  return "tap";
}

std::optional<DeviceKind> DeviceKindFromName(const std::string& name) {
  for (DeviceKind k : {DeviceKind::kTap, DeviceKind::kHostdev, DeviceKind::kPasst})
    if (name == DeviceKindName(k)) return k;
  return std::nullopt;
}

std::string Describe(const GuestDevice& d) {
  std::string out = DeviceKindName(d.kind);
  if (!d.tap.empty()) absl::StrAppend(&out, " ", d.tap);
  if (!d.host_pci_address.empty()) absl::StrAppend(&out, " ", d.host_pci_address);
  if (!d.mac.empty()) absl::StrAppend(&out, " mac ", d.mac);
  if (!d.model.empty()) absl::StrAppend(&out, " model ", d.model);
  if (d.mtu > 0) absl::StrAppend(&out, " mtu ", d.mtu);
  if (d.queues > 1) absl::StrAppend(&out, " queues ", d.queues, d.vhost ? " (vhost)" : "");
  if (!d.link_up) out += " link down";
  if (d.boot_order) absl::StrAppend(&out, " boot ", *d.boot_order);
  if (!d.guest_pci_address.empty()) absl::StrAppend(&out, " at ", d.guest_pci_address);
  if (d.acpi_index) absl::StrAppend(&out, " acpi ", *d.acpi_index);
  absl::StrAppend(&out, " alias ", d.alias);
  return out;
}

}  // namespace k6t::binding
