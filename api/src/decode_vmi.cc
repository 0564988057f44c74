#include "decode_vmi.h"

#include "absl/strings/str_cat.h"
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
    JoinDisks(*domain, dp, spec, sp, out.domain);
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
      r_.CheckFields(*fw, fp, {"kernelBoot"}, {"uuid", "serial"});
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
                    "useVirtioTransitional"},
                   {"rng", "autoattachGraphicsDevice", "autoattachSerialConsole",
                    "autoattachMemBalloon", "autoattachInputDevice", "autoattachVSOCK", "inputs",
                    "blockMultiQueue", "logSerialConsole", "clientPassthrough"});
    out.autoattach_pod_interface = r_.Bool(*dev, "autoattachPodInterface", vp).value_or(true);
    out.network_interface_multiqueue =
        r_.Bool(*dev, "networkInterfaceMultiqueue", vp).value_or(false);
    out.use_virtio_transitional = r_.Bool(*dev, "useVirtioTransitional", vp).value_or(false);
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
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return 0;
    const std::string p = JoinPath(path, key);
    if (it->is_number_integer() && it->get<int64_t>() >= 0) return it->get<int64_t>();
    if (it->is_number_float() && it->get<double>() >= 0 && it->get<double>() < 9.0e18)
      return static_cast<int64_t>(it->get<double>());
    if (!it->is_string()) {
      r_.TypeError(p, "a quantity such as \"256Mi\"", *it);
      return 0;
    }
    auto q = ParseQuantity(it->get<std::string>());
    if (!q.ok()) {
      r_.Error(p, std::string(q.status().message()));
      return 0;
    }
    return *q;
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

  // Disks come from domain.devices.disks and get their image from the volume of the same
  // name; only local images (hostDisk, containerDisk with a path) can back a k6t disk.
  void JoinDisks(const json& d, const std::string& dp, const json& spec, const std::string& sp,
                 Domain& out) {
    struct Volume {
      std::string path;
      std::string unsupported;  // volume type k6t cannot use
      std::string error;
      bool used = false;
    };
    std::map<std::string, Volume> volumes;
    if (const json* vols = r_.Array(spec, "volumes", sp)) {
      const std::string vp = JoinPath(sp, "volumes");
      for (size_t i = 0; i < vols->size(); ++i) {
        const json& v = (*vols)[i];
        const std::string xp = IndexPath(vp, i);
        if (!v.is_object()) {
          r_.TypeError(xp, "an object", v);
          continue;
        }
        const std::string name = r_.String(v, "name", xp).value_or("");
        if (name.empty()) r_.Error(JoinPath(xp, "name"), "required");
        Volume vol;
        if (const json* hd = r_.Object(v, "hostDisk", xp)) {
          const std::string hp = JoinPath(xp, "hostDisk");
          r_.CheckFields(*hd, hp, {"path", "type"}, {"capacity", "shared"});
          vol.path = r_.String(*hd, "path", hp).value_or("");
          const std::string type = r_.String(*hd, "type", hp).value_or("Disk");
          if (type != "Disk")
            r_.Error(JoinPath(hp, "type"),
                     absl::StrCat("\"", type,
                                  "\" is not supported by k6t (only \"Disk\": an "
                                  "existing local image)"));
          if (vol.path.empty()) r_.Error(JoinPath(hp, "path"), "required");
        } else if (const json* cd = r_.Object(v, "containerDisk", xp)) {
          const std::string cp = JoinPath(xp, "containerDisk");
          r_.CheckFields(*cd, cp, {"path"}, {"image", "imagePullPolicy", "imagePullSecret"});
          vol.path = r_.String(*cd, "path", cp).value_or("");
          if (vol.path.empty())
            r_.Error(JoinPath(cp, "path"),
                     "required: k6t does not pull container images; give the local path of "
                     "the disk image");
        } else {
          for (const auto& [k, x] : v.items())
            if (k != "name") vol.unsupported = k;
          r_.Warning(xp, absl::StrCat("volume type \"", vol.unsupported,
                                      "\" is not supported by k6t; its disk is left out"));
          if (vol.unsupported.empty()) vol.unsupported = "none";
        }
        if (!name.empty()) {
          if (volumes.count(name))
            r_.Error(JoinPath(xp, "name"), absl::StrCat("duplicate volume name \"", name, "\""));
          volumes[name] = vol;
        }
      }
    }
    const json* dev = d.contains("devices") && d["devices"].is_object() ? &d["devices"] : nullptr;
    const json* disks = dev ? r_.Array(*dev, "disks", JoinPath(dp, "devices")) : nullptr;
    if (!disks) return;
    const std::string kp = JoinPath(dp, "devices.disks");
    for (size_t i = 0; i < disks->size(); ++i) {
      const json& x = (*disks)[i];
      const std::string xp = IndexPath(kp, i);
      if (!x.is_object()) {
        r_.TypeError(xp, "an object", x);
        continue;
      }
      r_.CheckFields(x, xp, {"name", "disk", "bootOrder"},
                     {"serial", "cache", "io", "dedicatedIOThread", "tag", "shareable",
                      "errorPolicy", "blockSize"});
      for (const char* k : {"cdrom", "lun", "floppy"})
        if (x.contains(k))
          r_.Warning(JoinPath(xp, k), "disk type not supported by k6t; attached as a disk");
      Disk disk;
      disk.source_index = static_cast<int64_t>(i);
      disk.name = r_.String(x, "name", xp).value_or("");
      disk.boot_order = r_.Int(x, "bootOrder", xp);
      if (const json* dd = r_.Object(x, "disk", xp)) {
        const std::string ddp = JoinPath(xp, "disk");
        r_.CheckFields(*dd, ddp, {"bus"}, {"readonly", "pciAddress"});
        disk.bus = r_.String(*dd, "bus", ddp).value_or("");
      }
      if (disk.bus.empty()) disk.bus = "virtio";
      auto it = volumes.find(disk.name);
      if (it == volumes.end()) {
        r_.Error(JoinPath(xp, "name"),
                 absl::StrCat("\"", disk.name, "\" has no volume of that name in ",
                              JoinPath(sp, "volumes")));
        continue;
      }
      it->second.used = true;
      if (!it->second.unsupported.empty()) continue;
      disk.image_path = it->second.path;
      out.disks.push_back(disk);
    }
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
