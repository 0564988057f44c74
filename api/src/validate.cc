#include "k6t/api/validate.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "field_checks.h"
#include "json_reader.h"
#include "k6t/api/naming.h"
#include "k6t/api/net.h"
#include "net_util.h"
#include "validate_volumes.h"

namespace k6t::api {
namespace {

using internal::IndexPath;
using internal::IsDnsLabel;
using internal::IsDnsSubdomain;
using internal::JoinPath;
using internal::Quote;

bool MatchesName(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

// IANA service name (RFC 6335 as Kubernetes checks it): 1-15 chars of [a-z0-9-], at least
// one letter, no leading, trailing or doubled hyphen.
bool IsIanaServiceName(const std::string& s) {
  if (s.empty() || s.size() > 15) return false;
  if (s.front() == '-' || s.back() == '-' || s.find("--") != std::string::npos) return false;
  bool letter = false;
  for (char c : s) {
    if (c >= 'a' && c <= 'z') {
      letter = true;
    } else if (!(c >= '0' && c <= '9') && c != '-') {
      return false;
    }
  }
  return letter;
}

class Validator {
 public:
  Validator(const Vmi& vmi, const ClusterConfig& cfg) : vmi_(vmi), cfg_(cfg) {
    sp_ = vmi.spec_path.empty() ? "spec" : vmi.spec_path;
  }

  std::vector<FieldError> Run() {
    Networks();
    Interfaces();
    BootOrders();
    Compute();
    for (auto& e : internal::ValidateStorage(vmi_)) errors_.push_back(std::move(e));
    Names();
    return std::move(errors_);
  }

 private:
  void Err(const std::string& path, std::string msg) {
    errors_.push_back(FieldError{path, std::move(msg)});
  }
  std::string NetPath(size_t i) const { return IndexPath(JoinPath(sp_, "networks"), i); }
  std::string IfPath(size_t i) const {
    return IndexPath(JoinPath(sp_, "domain.devices.interfaces"), i);
  }
  std::string DiskPath(const Disk& d, size_t i) const {
    return IndexPath(JoinPath(sp_, "domain.devices.disks"),
                     d.source_index >= 0 ? static_cast<size_t>(d.source_index) : i);
  }

  // Paths follow KubeVirt's admission (pkg/network/admitter): a rule about the list as a
  // whole (two Multus defaults, pod with a Multus default, DRA networks) names
  // `networks`, a rule about one network `networks[i]`; the message says which entries.
  // Where KubeVirt's path names no field of the spec (two pod networks: "spec.interfaces";
  // DHCP private options: the bare "spec"), k6t keeps the precise one.
  void Networks() {
    const auto& nets = vmi_.spec.networks;
    const std::string np = JoinPath(sp_, "networks");
    std::map<std::string, size_t> seen;
    std::vector<size_t> pods, multus_defaults;
    for (size_t i = 0; i < nets.size(); ++i) {
      const Network& n = nets[i];
      const std::string p = NetPath(i);
      if (n.name.empty()) {
        Err(JoinPath(p, "name"), "required");
      } else if (!seen.emplace(n.name, i).second) {
        Err(JoinPath(p, "name"),
            absl::StrCat(Quote(n.name), ": every network must have a unique name"));
      }
      const int types = n.pod.has_value() + n.multus.has_value() + n.resource_claim.has_value();
      if (types == 0)
        Err(p, absl::StrCat("network ", Quote(n.name), " should have a network type"));
      if (types > 1)
        Err(p, absl::StrCat("network ", Quote(n.name), " should have only one network type"));
      if (n.pod) {
        pods.push_back(i);
        if (pods.size() > 1)
          Err(JoinPath(p, "pod"),
              absl::StrCat("more than one interface is connected to a pod network (",
                           IndexPath(np, pods.front()), " is one)"));
        PodCidrs(*n.pod, JoinPath(p, "pod"));
      }
      if (n.multus) {
        const std::string mp = JoinPath(p, "multus");
        if (n.multus->is_default) multus_defaults.push_back(i);
        const std::string& nn = n.multus->network_name;
        if (nn.empty()) {
          Err(p, absl::StrCat("network ", Quote(n.name),
                              ": CNI delegating plugin must have a networkName"));
        } else {
          const size_t slash = nn.find('/');
          const bool ok = slash == std::string::npos ? IsDnsSubdomain(nn)
                                                     : IsDnsLabel(nn.substr(0, slash)) &&
                                                           IsDnsSubdomain(nn.substr(slash + 1));
          if (!ok)
            Err(JoinPath(mp, "networkName"),
                absl::StrCat(Quote(nn),
                             " is not \"name\" or \"namespace/name\" of a "
                             "NetworkAttachmentDefinition"));
        }
      }
      if (!n.name.empty() && !vmi_.FindInterface(n.name))
        Err(JoinPath(p, "name"), absl::StrCat(Quote(n.name), " not found in ",
                                              JoinPath(sp_, "domain.devices.interfaces")));
    }
    auto list = [&](const std::vector<size_t>& at) {
      std::vector<std::string> paths;
      for (size_t i : at) paths.push_back(IndexPath(np, i));
      return absl::StrJoin(paths, ", ");
    };
    if (multus_defaults.size() > 1)
      Err(np, absl::StrCat("Multus CNI should only have one default network (",
                           list(multus_defaults), ")"));
    if (!pods.empty() && !multus_defaults.empty())
      Err(np, absl::StrCat("pod network cannot be used together with a Multus default network (",
                           list(pods), "; ", list(multus_defaults), ")"));
    ResourceClaims();
  }

  void PodCidrs(const PodNetwork& pn, const std::string& p) {
    for (const auto& [field, text, family, longest] :
         {std::tuple<const char*, const std::string&, IpFamily, int>{
              "vmNetworkCIDR", pn.vm_network_cidr, IpFamily::kV4, 30},
          {"vmIPv6NetworkCIDR", pn.vm_ipv6_network_cidr, IpFamily::kV6, 126}}) {
      if (text.empty()) continue;
      const std::string fp = JoinPath(p, field);
      const char* name = family == IpFamily::kV4 ? "IPv4" : "IPv6";
      auto c = IpPrefix::Parse(text);
      if (!c.ok() || c->family() != family) {
        Err(fp, absl::StrCat(Quote(text), " is not an ", name, " CIDR"));
      } else if (c->length() > longest) {
        Err(fp,
            absl::StrCat(Quote(text), " leaves fewer than 2 host addresses (gateway and VM); use /",
                         longest, " or shorter"));
      }
    }
  }

  void ResourceClaims() {
    const auto& nets = vmi_.spec.networks;
    const std::string np = JoinPath(sp_, "networks");
    std::vector<size_t> claims_at;
    bool has_multus = false;
    for (size_t i = 0; i < nets.size(); ++i) {
      if (nets[i].resource_claim) claims_at.push_back(i);
      has_multus |= nets[i].multus.has_value();
    }
    if (claims_at.empty()) return;
    std::vector<std::string> names;
    for (size_t i : claims_at) names.push_back(Quote(nets[i].name));
    if (!cfg_.network_devices_with_dra_gate) {
      Err(np, absl::StrCat("resourceClaim (DRA) networks (", absl::StrJoin(names, ", "),
                           ") are not supported by k6t (feature gate NetworkDevicesWithDRA is "
                           "off)"));
      return;
    }
    if (has_multus) {
      Err(np, "resourceClaim networks cannot be mixed with Multus networks");
      return;
    }
    const auto& claims = vmi_.spec.resource_claims;
    std::map<std::pair<std::string, std::string>, size_t> pairs;
    for (size_t i : claims_at) {
      const Network& n = nets[i];
      const std::string cp = JoinPath(NetPath(i), "resourceClaim");
      if (const Interface* f = vmi_.FindInterface(n.name)) {
        if (f->binding() != BindingMethod::kSriov && f->binding() != BindingMethod::kPlugin)
          Err(JoinPath(sp_, "domain.devices.interfaces"),
              absl::StrCat("interface ", Quote(n.name),
                           " of a resourceClaim network must use sriov or a binding plugin"));
      }
      const auto& rc = *n.resource_claim;
      if (rc.claim_name.empty()) Err(JoinPath(cp, "claimName"), "required");
      if (rc.request_name.empty()) Err(JoinPath(cp, "requestName"), "required");
      if (rc.claim_name.empty() || rc.request_name.empty()) continue;
      if (std::find(claims.begin(), claims.end(), rc.claim_name) == claims.end())
        Err(JoinPath(cp, "claimName"),
            absl::StrCat(Quote(rc.claim_name), " not found in ", JoinPath(sp_, "resourceClaims")));
      if (auto [it, fresh] = pairs.emplace(std::make_pair(rc.claim_name, rc.request_name), i);
          !fresh)
        Err(NetPath(i),
            absl::StrCat("claim ", Quote(rc.claim_name), " request ", Quote(rc.request_name),
                         " is already used by ", NetPath(it->second)));
    }
  }

  void Interfaces() {
    const auto& ifs = vmi_.spec.domain.interfaces;
    std::map<std::string, size_t> names;
    std::map<MacAddress, size_t> macs;
    std::map<int64_t, size_t> acpi;
    for (size_t i = 0; i < ifs.size(); ++i) {
      const Interface& f = ifs[i];
      const std::string p = IfPath(i);
      const Network* net = f.name.empty() ? nullptr : vmi_.FindNetwork(f.name);
      if (f.name.empty()) {
        Err(JoinPath(p, "name"), "required");
      } else {
        if (!MatchesName(f.name))
          Err(JoinPath(p, "name"), absl::StrCat(Quote(f.name), " does not match ^[A-Za-z0-9-_]+$"));
        else if (f.name.size() > 253)
          Err(JoinPath(p, "name"), absl::StrCat("longer than 253 characters"));
        if (!names.emplace(f.name, i).second)
          Err(JoinPath(p, "name"),
              absl::StrCat(Quote(f.name),
                           ": only one interface can be connected to one specific "
                           "network"));
        if (!net)
          Err(JoinPath(p, "name"),
              absl::StrCat(Quote(f.name), " not found in ", JoinPath(sp_, "networks")));
      }
      Binding(f, p, net);
      State(f, p, net);
      if (!f.model.empty()) {
        static const char* const kModels[] = {"e1000", "e1000e",  "igb",   "ne2k_pci",
                                              "pcnet", "rtl8139", "virtio"};
        if (std::none_of(std::begin(kModels), std::end(kModels),
                         [&](const char* m) { return f.model == m; }))
          Err(JoinPath(p, "model"), absl::StrCat("interface model ", Quote(f.model),
                                                 " is not supported (one of e1000, "
                                                 "e1000e, igb, ne2k_pci, pcnet, rtl8139, virtio)"));
      }
      if (!f.mac_address.empty()) {
        // Decode canonicalised every MAC that parses; one that does not is kept as written.
        auto mac = MacAddress::Parse(f.mac_address);
        if (!mac.ok()) {
          Err(JoinPath(p, "macAddress"), std::string(mac.status().message()));
        } else {
          if (f.binding() == BindingMethod::kMasquerade && *mac == kMasqueradeBridgeMac)
            Err(JoinPath(p, "macAddress"),
                absl::StrCat(Quote(f.mac_address), " is reserved for the in-pod bridge"));
          if (auto [it, fresh] = macs.emplace(*mac, i); !fresh)
            Err(JoinPath(p, "macAddress"),
                absl::StrCat(Quote(f.mac_address), " is already used by ", IfPath(it->second)));
        }
      }
      if (!f.pci_address.empty())
        if (auto pci = PciAddress::Parse(f.pci_address); !pci.ok())
          Err(JoinPath(p, "pciAddress"), std::string(pci.status().message()));
      if (f.acpi_index) {
        if (*f.acpi_index < 1 || *f.acpi_index > 16383)
          Err(JoinPath(p, "acpiIndex"), absl::StrCat(*f.acpi_index, " is not in 1..16383"));
        else if (auto [it, fresh] = acpi.emplace(*f.acpi_index, i); !fresh)
          Err(JoinPath(p, "acpiIndex"),
              absl::StrCat(*f.acpi_index, " is already used by ", IfPath(it->second)));
      }
      if (f.mtu && (*f.mtu < 68 || *f.mtu > 65535))
        Err(JoinPath(p, "mtu"), absl::StrCat(*f.mtu, " is not in 68..65535"));
      Ports(f, p, net);
      PortRanges(f, p, net);
      Dhcp(f, p);
    }
  }

  void Binding(const Interface& f, const std::string& p, const Network* net) {
    if (f.bindings.size() != 1) {
      std::vector<std::string> found;
      for (auto b : f.bindings) found.push_back(BindingMethodField(b));
      Err(p, absl::StrCat("interface ", Quote(f.name),
                          " must have exactly one binding method or binding plugin (found ",
                          found.empty() ? "none" : absl::StrJoin(found, ", "), ")"));
    }
    const bool on_pod = net && net->pod;
    // KubeVirt names the interface's `name` (the link to its network) for a binding that
    // does not fit the network or the cluster, and the binding's own key otherwise.
    const std::string np = JoinPath(p, "name");
    for (BindingMethod b : f.bindings) {
      const std::string bp = JoinPath(p, BindingMethodField(b));
      switch (b) {
        case BindingMethod::kMasquerade:
          if (net && !on_pod) Err(np, "Masquerade interface only implemented with pod network");
          break;
        case BindingMethod::kBridge:
          if (on_pod && !cfg_.permit_bridge_on_pod_network)
            Err(np,
                "Bridge on pod network configuration is not enabled under kubevirt-config "
                "(permitBridgeInterfaceOnPodNetwork)");
          break;
        case BindingMethod::kPasst:
          if (!cfg_.passt_binding_gate)
            Err(np, "passtBinding requires the PasstBinding feature gate");
          if (net && !on_pod) Err(np, "passtBinding is only implemented with the pod network");
          break;
        case BindingMethod::kPlugin:
          if (f.plugin_name.empty()) {
            Err(JoinPath(bp, "name"), "required: the name of a network binding plugin");
          } else if (!cfg_.binding_plugins.count(f.plugin_name)) {
            Err(JoinPath(bp, "name"),
                absl::StrCat(Quote(f.plugin_name),
                             " is not a network binding plugin of this cluster (registered: ",
                             absl::StrJoin(cfg_.binding_plugins, ", "), ")"));
          }
          break;
        case BindingMethod::kDeprecatedSlirp:
        case BindingMethod::kDeprecatedMacvtap:
        case BindingMethod::kDeprecatedPasst:
          Err(bp, absl::StrCat(BindingMethodField(b),
                               " interface binding has been discontinued since v1.3"));
          break;
        case BindingMethod::kSriov:
          break;
      }
    }
  }

  void State(const Interface& f, const std::string& p, const Network* net) {
    const std::string sp = JoinPath(p, "state");
    if (f.state.empty()) return;
    if (f.state != "up" && f.state != "down" && f.state != "absent") {
      Err(sp, absl::StrCat(Quote(f.state),
                           ": interface state value is unsupported (\"\", up, "
                           "down, absent)"));
      return;
    }
    if (f.binding() == BindingMethod::kSriov && f.state != "absent")
      Err(sp, absl::StrCat(Quote(f.state), ": SR-IOV interfaces do not support link state"));
    if (f.state == "absent") {
      if (f.binding() != BindingMethod::kBridge)
        Err(sp, "\"absent\" is only supported with bridge binding");
      if (net && net->primary())
        Err(sp, "\"absent\" is not supported on the default (pod or Multus default) network");
    }
  }

  void Ports(const Interface& f, const std::string& p, const Network* net) {
    if (f.ports.empty() || !net || !net->pod) return;
    std::map<std::string, size_t> names;
    for (size_t i = 0; i < f.ports.size(); ++i) {
      const Port& port = f.ports[i];
      const std::string pp = IndexPath(JoinPath(p, "ports"), i);
      if (port.port == 0)
        Err(JoinPath(pp, "port"), "Port field is mandatory");
      else if (port.port < 0 || port.port > 65535)
        Err(JoinPath(pp, "port"), absl::StrCat(port.port, " must be in range 0 < x < 65536"));
      if (!port.protocol.empty() && port.protocol != "TCP" && port.protocol != "UDP")
        Err(JoinPath(pp, "protocol"),
            absl::StrCat(Quote(port.protocol), ": only TCP or UDP allowed"));
      if (!port.name.empty()) {
        if (!IsIanaServiceName(port.name))
          Err(JoinPath(pp, "name"),
              absl::StrCat(Quote(port.name),
                           " is not a valid IANA service name (1-15 of a-z, 0-9, "
                           "'-', with a letter)"));
        if (!names.emplace(port.name, i).second)
          Err(JoinPath(pp, "name"), absl::StrCat(Quote(port.name), ": Duplicate name of the port"));
      }
    }
  }

  // KubeVirt's paths: a rule about the interface names its `name`, one about the list
  // `portRanges` (too many, an overlap), one about a range the field at fault (`start` also
  // when it is past `end`).
  void PortRanges(const Interface& f, const std::string& p, const Network*) {
    if (f.port_ranges.empty()) return;
    const std::string rp = JoinPath(p, "portRanges");
    const std::string np = JoinPath(p, "name");
    if (!cfg_.port_ranges_gate) {
      Err(np, "portRanges requires the PortRangesSpec feature gate");
      return;
    }
    if (!f.ports.empty()) Err(np, "portRanges cannot be used together with ports");
    if (f.binding() != BindingMethod::kMasquerade)
      Err(np, "portRanges are only supported with masquerade binding");
    if (f.port_ranges.size() > 10) {
      Err(rp, absl::StrCat(f.port_ranges.size(), " port ranges; at most 10 are allowed"));
      return;
    }
    std::vector<std::tuple<std::string, int64_t, int64_t, size_t>> seen;
    for (size_t i = 0; i < f.port_ranges.size(); ++i) {
      const PortRange& r = f.port_ranges[i];
      const std::string xp = IndexPath(rp, i);
      const std::string proto = r.protocol.empty() ? "TCP" : r.protocol;
      bool ok = true;
      if (proto != "TCP" && proto != "UDP") {
        Err(JoinPath(xp, "protocol"), absl::StrCat(Quote(r.protocol), ": only TCP or UDP allowed"));
        ok = false;
      }
      if (r.start < 1 || r.start > 65535) {
        Err(JoinPath(xp, "start"), absl::StrCat(r.start, " must be in range 0 < x < 65536"));
        ok = false;
      }
      if (r.end < 1 || r.end > 65535) {
        Err(JoinPath(xp, "end"), absl::StrCat(r.end, " must be in range 0 < x < 65536"));
        ok = false;
      }
      if (ok && r.start > r.end) {
        Err(JoinPath(xp, "start"), absl::StrCat(r.start, " is greater than end ", r.end));
        ok = false;
      }
      if (!ok) continue;
      for (const auto& [sp, ss, se, si] : seen)
        if (sp == proto && r.start <= se && ss <= r.end)
          Err(rp, absl::StrCat(proto, " ", r.start, "-", r.end, " (", IndexPath(rp, i),
                               ") overlaps ", ss, "-", se, " (", IndexPath(rp, si), ")"));
      seen.emplace_back(proto, r.start, r.end, i);
    }
  }

  void Dhcp(const Interface& f, const std::string& p) {
    if (!f.dhcp_options) return;
    const std::string dp = JoinPath(p, "dhcpOptions");
    std::map<int64_t, size_t> codes;
    for (size_t i = 0; i < f.dhcp_options->private_options.size(); ++i) {
      const auto& o = f.dhcp_options->private_options[i];
      const std::string op = JoinPath(IndexPath(JoinPath(dp, "privateOptions"), i), "option");
      if (o.option < 224 || o.option > 254)
        Err(op, absl::StrCat(o.option, ": private DHCP option codes must be in 224..254"));
      else if (!codes.emplace(o.option, i).second)
        Err(op, absl::StrCat(o.option, ": duplicate private DHCP option"));
    }
    for (size_t i = 0; i < f.dhcp_options->ntp_servers.size(); ++i) {
      const std::string& s = f.dhcp_options->ntp_servers[i];
      if (auto ip = IpAddress::Parse(s); !ip.ok() || !ip->is_v4())
        Err(IndexPath(JoinPath(dp, "ntpServers"), i),
            absl::StrCat(Quote(s), " is not a valid IPv4 address"));
    }
  }

  void BootOrders() {
    std::map<int64_t, std::string> used;
    auto check = [&](std::optional<int64_t> order, const std::string& path) {
      if (!order) return;
      if (*order < 1) {
        Err(path, absl::StrCat(*order, ": boot order must be greater than 0"));
        return;
      }
      if (auto [it, fresh] = used.emplace(*order, path); !fresh)
        Err(path, absl::StrCat("boot order ", *order, " is already used by ", it->second));
    };
    const auto& disks = vmi_.spec.domain.disks;
    for (size_t i = 0; i < disks.size(); ++i)
      check(disks[i].boot_order, JoinPath(DiskPath(disks[i], i), "bootOrder"));
    const auto& ifs = vmi_.spec.domain.interfaces;
    for (size_t i = 0; i < ifs.size(); ++i)
      check(ifs[i].boot_order, JoinPath(IfPath(i), "bootOrder"));
  }

  void Compute() {
    const Domain& d = vmi_.spec.domain;
    const std::string cp = JoinPath(sp_, "domain.cpu");
    for (auto [name, v] : {std::pair<const char*, int64_t>{"sockets", d.cpu.sockets},
                           {"cores", d.cpu.cores},
                           {"threads", d.cpu.threads}})
      if (v < 1 || v > 512) Err(JoinPath(cp, name), absl::StrCat(v, " is not in 1..512"));
    if (d.cpu.sockets > 0 && d.cpu.cores > 0 && d.cpu.threads > 0 && d.cpu.sockets <= 512 &&
        d.cpu.cores <= 512 && d.cpu.threads <= 512 && d.cpu.vcpus() > 512)
      Err(cp, absl::StrCat(d.cpu.vcpus(), " vCPUs; at most 512 are supported"));
    if (d.memory_bytes < 0)
      Err(JoinPath(sp_, "domain.memory.guest"), absl::StrCat(d.memory_bytes, " is negative"));
    else if (d.memory_bytes > 0 && d.memory_bytes < (16 << 20))
      Err(JoinPath(sp_, "domain.memory.guest"),
          absl::StrCat(d.memory_bytes, " bytes is less than the 16Mi a guest needs"));
    if (d.kernel_boot) {
      const auto& k = *d.kernel_boot;
      const std::string kp = JoinPath(sp_, "domain.firmware.kernelBoot");
      if (k.kernel_path.empty() && (!k.initrd_path.empty() || !k.kernel_args.empty()))
        Err(JoinPath(kp, "container.kernelPath"),
            "required when kernelArgs or initrdPath are given");
    }
    if (!vmi_.spec.hostname.empty() && !IsDnsLabel(vmi_.spec.hostname))
      Err(JoinPath(sp_, "hostname"),
          absl::StrCat(Quote(vmi_.spec.hostname), " is not a DNS-1123 label"));
    if (!vmi_.spec.subdomain.empty() && !IsDnsLabel(vmi_.spec.subdomain))
      Err(JoinPath(sp_, "subdomain"),
          absl::StrCat(Quote(vmi_.spec.subdomain), " is not a DNS-1123 label"));
  }

  void Names() {
    for (auto& e : ValidatePodLinkNames(vmi_)) errors_.push_back(std::move(e));
  }

  const Vmi& vmi_;
  const ClusterConfig& cfg_;
  std::string sp_;
  std::vector<FieldError> errors_;
};

}  // namespace

std::vector<FieldError> Validate(const Vmi& vmi, const ClusterConfig& cfg) {
  return Validator(vmi, cfg).Run();
}

std::vector<FieldError> ValidatePodLinkNames(const Vmi& vmi,
                                             const std::vector<NetworkStatusEntry>& status,
                                             const std::vector<std::string>& existing_links) {
  std::vector<FieldError> errors;
  const std::string sp = vmi.spec_path.empty() ? "spec" : vmi.spec_path;
  const auto names = PodInterfaceNames(vmi, status, existing_links);
  const auto& nets = vmi.spec.networks;
  for (size_t i = 0; i < nets.size(); ++i) {
    auto it = names.find(nets[i].name);
    if (it == names.end()) continue;
    const PodLinkNames l = DeriveLinkNames(it->second, nets[i].primary());
    for (const auto& [what, name] : {std::pair<const char*, const std::string&>{"pod link", l.pod},
                                     {"bridge", l.bridge},
                                     {"tap", l.tap},
                                     {"renamed pod link", l.nic}}) {
      if (name.size() > kMaxIfNameLen || name.empty())
        errors.push_back(FieldError{
            IndexPath(JoinPath(sp, "networks"), i),
            absl::StrCat("network ", Quote(nets[i].name), ": ", what, " name ", Quote(name), " (",
                         name.size(), " characters) does not fit IFNAMSIZ (1..", kMaxIfNameLen,
                         ")")});
    }
  }
  return errors;
}

}  // namespace k6t::api
