#include "decode_vmi.h"

#include "absl/strings/str_cat.h"
#include "decode_volumes.h"
#include "k6t/api/net.h"
#include "net_util.h"

namespace k6t::api::internal {
namespace {

using nlohmann::json;

// `text` in T's canonical form when it parses, else unchanged.
template <typename T>
std::string Canonical(const std::string& text) {
  auto v = T::Parse(text);
  return v.ok() ? v->ToString() : text;
}

class VmiDecoder {
 public:
  explicit VmiDecoder(JsonReader& r) : r_(r) {}

  void Metadata(const json& doc, const std::string& path, ObjectMeta& meta) {
    const json* m = r_.Object(doc, "metadata", path);
    const std::string mp = JoinPath(path, "metadata");
    if (m) {
      // Bookkeeping fields the API server fills in; they change nothing k6t builds.
      r_.CheckFields(*m, mp, {"name", "namespace", "uid", "labels", "annotations"},
                     {"generateName", "creationTimestamp", "resourceVersion", "generation",
                      "ownerReferences", "finalizers", "managedFields", "selfLink",
                      "deletionTimestamp", "deletionGracePeriodSeconds"});
      meta.name = r_.String(*m, "name", mp).value_or("");
      meta.namespace_ = r_.String(*m, "namespace", mp).value_or("");
      meta.uid = r_.String(*m, "uid", mp).value_or("");
      for (auto& [k, v] : r_.StringMap(*m, "labels", mp)) meta.labels[k] = v;
      for (auto& [k, v] : r_.StringMap(*m, "annotations", mp)) meta.annotations[k] = v;
    }
    if (meta.name.empty()) r_.Error(JoinPath(mp, "name"), "required");
    if (meta.namespace_.empty()) meta.namespace_ = "default";
    if (meta.uid.empty() && !meta.name.empty()) meta.uid = DeriveUid(meta.namespace_, meta.name);
  }

  void Spec(const json& spec, const std::string& sp, VmiSpec& out) {
    r_.CheckFields(
        spec, sp, {"domain", "networks", "volumes", "hostname", "subdomain", "resourceClaims"},
        {"nodeSelector", "affinity", "tolerations", "schedulerName", "priorityClassName",
         "topologySpreadConstraints", "evictionStrategy", "terminationGracePeriodSeconds",
         "startStrategy", "architecture", "readinessProbe", "livenessProbe", "dnsPolicy",
         "dnsConfig", "accessCredentials"});
    out.hostname = r_.String(spec, "hostname", sp).value_or("");
    out.subdomain = r_.String(spec, "subdomain", sp).value_or("");
    if (const json* claims = r_.Array(spec, "resourceClaims", sp)) {
      const std::string cp = JoinPath(sp, "resourceClaims");
      for (size_t i = 0; i < claims->size(); ++i) {
        const json& c = (*claims)[i];
        if (!c.is_object()) {
          r_.TypeError(IndexPath(cp, i), "an object", c);
          continue;
        }
        out.resource_claims.push_back(r_.String(c, "name", IndexPath(cp, i)).value_or(""));
      }
    }
    if (const json* nets = r_.Array(spec, "networks", sp)) {
      const std::string np = JoinPath(sp, "networks");
      for (size_t i = 0; i < nets->size(); ++i) {
        const json& n = (*nets)[i];
        if (!n.is_object()) {
          r_.TypeError(IndexPath(np, i), "an object", n);
          continue;
        }
        out.networks.push_back(NetworkOf(n, IndexPath(np, i)));
      }
    }
    const json* domain = r_.Object(spec, "domain", sp);
    const std::string dp = JoinPath(sp, "domain");
    if (!domain) {
      r_.Error(dp, "required");
      return;
    }
    DomainOf(*domain, dp, out.domain);
    DecodeStorage(r_, spec, sp, out.domain, out.volumes);
  }

 private:
  Network NetworkOf(const json& n, const std::string& p) {
    r_.CheckFields(n, p, {"name", "pod", "multus", "resourceClaim"});
    Network out;
    out.name = r_.String(n, "name", p).value_or("");
    if (const json* pod = r_.Object(n, "pod", p)) {
      const std::string pp = JoinPath(p, "pod");
      r_.CheckFields(*pod, pp, {"vmNetworkCIDR", "vmIPv6NetworkCIDR"});
      PodNetwork pn;
      pn.vm_network_cidr = StripIPv4LeadingZeros(r_.String(*pod, "vmNetworkCIDR", pp).value_or(""));
      pn.vm_ipv6_network_cidr = r_.String(*pod, "vmIPv6NetworkCIDR", pp).value_or("");
      out.pod = pn;
    }
    if (const json* m = r_.Object(n, "multus", p)) {
      const std::string mp = JoinPath(p, "multus");
      r_.CheckFields(*m, mp, {"networkName", "default"});
      out.multus = MultusNetwork{r_.String(*m, "networkName", mp).value_or(""),
                                 r_.Bool(*m, "default", mp).value_or(false)};
    }
    if (const json* c = r_.Object(n, "resourceClaim", p)) {
      const std::string cp = JoinPath(p, "resourceClaim");
      r_.CheckFields(*c, cp, {"claimName", "requestName"});
      out.resource_claim = ResourceClaimNetwork{r_.String(*c, "claimName", cp).value_or(""),
                                                r_.String(*c, "requestName", cp).value_or("")};
    }
    return out;
  }

  void DomainOf(const json& d, const std::string& dp, Domain& out) {
    r_.CheckFields(d, dp, {"cpu", "memory", "resources", "firmware", "devices"},
                   {"machine", "clock", "features", "chassis", "ioThreadsPolicy", "ioThreads",
                    "launchSecurity"});
    if (const json* cpu = r_.Object(d, "cpu", dp)) {
      const std::string cp = JoinPath(dp, "cpu");
      r_.CheckFields(*cpu, cp, {"sockets", "cores", "threads"},
                     {"model", "features", "dedicatedCpuPlacement", "isolateEmulatorThread", "numa",
                      "realtime", "maxSockets"});
      out.cpu.sockets = r_.Int(*cpu, "sockets", cp).value_or(1);
      out.cpu.cores = r_.Int(*cpu, "cores", cp).value_or(1);
      out.cpu.threads = r_.Int(*cpu, "threads", cp).value_or(1);
    }
    int64_t guest = 0, requested = 0;
    if (const json* mem = r_.Object(d, "memory", dp)) {
      const std::string mp = JoinPath(dp, "memory");
      r_.CheckFields(*mem, mp, {"guest"}, {"maxGuest", "hugepages"});
      guest = Quantity(*mem, "guest", mp);
    }
    if (const json* res = r_.Object(d, "resources", dp)) {
      const std::string rp = JoinPath(dp, "resources");
      r_.CheckFields(*res, rp, {"requests"}, {"limits", "overcommitGuestOverhead"});
      if (const json* req = r_.Object(*res, "requests", rp))
        requested = Quantity(*req, "memory", JoinPath(rp, "requests"));
    }
    out.memory_bytes = guest ? guest : requested;
    if (const json* fw = r_.Object(d, "firmware", dp)) {
      const std::string fp = JoinPath(dp, "firmware");
      r_.CheckFields(*fw, fp, {"kernelBoot", "uuid"}, {"serial"});
      out.firmware_uuid = r_.String(*fw, "uuid", fp).value_or("");
      if (const json* kb = r_.Object(*fw, "kernelBoot", fp)) {
        const std::string kp = JoinPath(fp, "kernelBoot");
        r_.CheckFields(*kb, kp, {"kernelArgs", "container"});
        KernelBoot k;
        k.kernel_args = r_.String(*kb, "kernelArgs", kp).value_or("");
        if (const json* c = r_.Object(*kb, "container", kp)) {
          const std::string ccp = JoinPath(kp, "container");
          r_.CheckFields(*c, ccp, {"kernelPath", "initrdPath"},
                         {"image", "imagePullPolicy", "imagePullSecret"});
          k.kernel_path = r_.String(*c, "kernelPath", ccp).value_or("");
          k.initrd_path = r_.String(*c, "initrdPath", ccp).value_or("");
        }
        out.kernel_boot = k;
      }
    }
    const json* dev = r_.Object(d, "devices", dp);
    if (!dev) return;
    const std::string vp = JoinPath(dp, "devices");
    r_.CheckFields(*dev, vp,
                   {"interfaces", "disks", "autoattachPodInterface", "networkInterfaceMultiqueue",
                    "useVirtioTransitional", "autoattachGraphicsDevice", "autoattachSerialConsole"},
                   {"rng", "autoattachMemBalloon", "autoattachInputDevice", "autoattachVSOCK",
                    "inputs", "blockMultiQueue", "logSerialConsole", "clientPassthrough"});
    out.autoattach_pod_interface = r_.Bool(*dev, "autoattachPodInterface", vp).value_or(true);
    out.network_interface_multiqueue =
        r_.Bool(*dev, "networkInterfaceMultiqueue", vp).value_or(false);
    out.use_virtio_transitional = r_.Bool(*dev, "useVirtioTransitional", vp).value_or(false);
    out.autoattach_graphics_device = r_.Bool(*dev, "autoattachGraphicsDevice", vp);
    out.autoattach_serial_console = r_.Bool(*dev, "autoattachSerialConsole", vp);
    if (const json* ifs = r_.Array(*dev, "interfaces", vp)) {
      const std::string ip = JoinPath(vp, "interfaces");
      for (size_t i = 0; i < ifs->size(); ++i) {
        const json& e = (*ifs)[i];
        if (!e.is_object()) {
          r_.TypeError(IndexPath(ip, i), "an object", e);
          continue;
        }
        out.interfaces.push_back(InterfaceOf(e, IndexPath(ip, i)));
      }
    }
  }

  int64_t Quantity(const json& obj, const char* key, const std::string& path) {
    return ReadQuantity(r_, obj, key, path).value_or(0);
  }

  Interface InterfaceOf(const json& e, const std::string& p) {
    r_.CheckFields(e, p, {"name",         "model",       "bridge",     "masquerade", "sriov",
                          "passtBinding", "binding",     "slirp",      "macvtap",    "passt",
                          "ports",        "portRanges",  "macAddress", "bootOrder",  "pciAddress",
                          "acpiIndex",    "dhcpOptions", "tag",        "state",      "mtu"});
    Interface out;
    out.name = r_.String(e, "name", p).value_or("");
    out.model = r_.String(e, "model", p).value_or("");
    static const std::pair<const char*, BindingMethod> kBindings[] = {
        {"bridge", BindingMethod::kBridge},
        {"masquerade", BindingMethod::kMasquerade},
        {"sriov", BindingMethod::kSriov},
        {"passtBinding", BindingMethod::kPasst},
        {"binding", BindingMethod::kPlugin},
        {"slirp", BindingMethod::kDeprecatedSlirp},
        {"macvtap", BindingMethod::kDeprecatedMacvtap},
        {"passt", BindingMethod::kDeprecatedPasst},
    };
    for (const auto& [key, method] : kBindings) {
      const json* b = r_.Object(e, key, p);
      if (!b) continue;
      out.bindings.push_back(method);
      const std::string bp = JoinPath(p, key);
      if (method == BindingMethod::kPlugin) {
        r_.CheckFields(*b, bp, {"name"});
        out.plugin_name = r_.String(*b, "name", bp).value_or("");
      } else {
        r_.CheckFields(*b, bp, {});
      }
    }
    if (const json* ports = r_.Array(e, "ports", p)) {
      const std::string pp = JoinPath(p, "ports");
      for (size_t i = 0; i < ports->size(); ++i) {
        const json& x = (*ports)[i];
        const std::string xp = IndexPath(pp, i);
        if (!x.is_object()) {
          r_.TypeError(xp, "an object", x);
          continue;
        }
        r_.CheckFields(x, xp, {"name", "protocol", "port"});
        out.ports.push_back(Port{r_.String(x, "name", xp).value_or(""),
                                 r_.String(x, "protocol", xp).value_or(""),
                                 r_.Int(x, "port", xp).value_or(0)});
      }
    }
    if (const json* ranges = r_.Array(e, "portRanges", p)) {
      const std::string pp = JoinPath(p, "portRanges");
      for (size_t i = 0; i < ranges->size(); ++i) {
        const json& x = (*ranges)[i];
        const std::string xp = IndexPath(pp, i);
        if (!x.is_object()) {
          r_.TypeError(xp, "an object", x);
          continue;
        }
        r_.CheckFields(x, xp, {"protocol", "start", "end"});
        out.port_ranges.push_back(PortRange{r_.String(x, "protocol", xp).value_or(""),
                                            r_.Int(x, "start", xp).value_or(0),
                                            r_.Int(x, "end", xp).value_or(0)});
      }
    }
    // Canonical from here on (plan, domain XML, DHCP, status all compare these as text);
    // a value that does not parse is kept as written for Validate to report.
    out.mac_address = Canonical<MacAddress>(r_.String(e, "macAddress", p).value_or(""));
    out.boot_order = r_.Int(e, "bootOrder", p);
    out.pci_address = Canonical<PciAddress>(r_.String(e, "pciAddress", p).value_or(""));
    out.acpi_index = r_.Int(e, "acpiIndex", p);
    out.tag = r_.String(e, "tag", p).value_or("");
    out.state = r_.String(e, "state", p).value_or("");
    out.mtu = r_.Int(e, "mtu", p);
    if (const json* d = r_.Object(e, "dhcpOptions", p)) {
      const std::string dp = JoinPath(p, "dhcpOptions");
      r_.CheckFields(*d, dp, {"bootFileName", "tftpServerName", "ntpServers", "privateOptions"});
      DhcpOptions o;
      o.boot_file_name = r_.String(*d, "bootFileName", dp).value_or("");
      o.tftp_server_name = r_.String(*d, "tftpServerName", dp).value_or("");
      for (auto& s : r_.StringList(*d, "ntpServers", dp))
        o.ntp_servers.push_back(StripIPv4LeadingZeros(s));
      if (const json* po = r_.Array(*d, "privateOptions", dp)) {
        const std::string pp = JoinPath(dp, "privateOptions");
        for (size_t i = 0; i < po->size(); ++i) {
          const json& x = (*po)[i];
          const std::string xp = IndexPath(pp, i);
          if (!x.is_object()) {
            r_.TypeError(xp, "an object", x);
            continue;
          }
          r_.CheckFields(x, xp, {"option", "value"});
          o.private_options.push_back(PrivateDhcpOption{r_.Int(x, "option", xp).value_or(0),
                                                        r_.String(x, "value", xp).value_or("")});
        }
      }
      out.dhcp_options = o;
    }
    return out;
  }

  JsonReader& r_;
};

}  // namespace

std::string DeriveUid(const std::string& namespace_, const std::string& name) {
  std::string h = Sha256Hex(absl::StrCat(namespace_, "/", name)).substr(0, 32);
  h[12] = '8';  // version 8: vendor-specific layout
  static const char kVariant[] = "89ab";
  h[16] = kVariant[std::stoi(h.substr(16, 1), nullptr, 16) & 3];
  return absl::StrCat(h.substr(0, 8), "-", h.substr(8, 4), "-", h.substr(12, 4), "-",
                      h.substr(16, 4), "-", h.substr(20, 12));
}

Vmi DecodeVmiObject(const json& doc, const std::string& path, JsonReader& r) {
  Vmi vmi;
  vmi.kind = doc.value("kind", "");
  VmiDecoder dec(r);
  r.CheckFields(doc, path, {"apiVersion", "kind", "metadata", "spec"}, {"status"});
  dec.Metadata(doc, path, vmi.meta);
  const json* spec = r.Object(doc, "spec", path);
  std::string sp = JoinPath(path, "spec");
  if (!spec) {
    r.Error(sp, "required");
    return vmi;
  }
  if (vmi.kind == "VirtualMachine") {
    r.CheckFields(*spec, sp, {"template"},
                  {"running", "runStrategy", "dataVolumeTemplates", "instancetype", "preference",
                   "updateVolumesStrategy", "liveUpdateFeatures"});
    const json* tmpl = r.Object(*spec, "template", sp);
    sp = JoinPath(sp, "template");
    if (!tmpl) {
      r.Error(sp, "required");
      return vmi;
    }
    r.CheckFields(*tmpl, sp, {"spec"}, {"metadata"});
    spec = r.Object(*tmpl, "spec", sp);
    sp = JoinPath(sp, "spec");
    if (!spec) {
      r.Error(sp, "required");
      return vmi;
    }
  }
  vmi.spec_path = sp;
  dec.Spec(*spec, sp, vmi.spec);
  return vmi;
}

}  // namespace k6t::api::internal
