#include "cni/cni_request.h"

#include "absl/strings/str_cat.h"
#include "cni/cni_error.h"
#include "k6t/api/naming.h"
#include "k6t/binding/executor.h"
#include "k6t/binding/registry.h"

namespace k6t::handler::cni {
namespace {

std::string Arg(const Env& env, const char* key, const std::string& fallback) {
  auto it = env.args.find(key);
  return it == env.args.end() || it->second.empty() ? fallback : it->second;
}

api::NetworkStatusEntry StatusFromPrevResult(const Config& c, const Env& env, bool primary) {
  api::NetworkStatusEntry e;
  e.name = c.name;
  const std::string& link = PodLink(c, env);
  e.interface = link;
  e.is_default = primary;
  if (!c.prev_result) return e;
  const PrevResult& r = *c.prev_result;
  const ResultInterface* i = SandboxInterface(r, link);
  if (!i) return e;  // a separate attachment's prevResult is about another link
  e.mac = i->mac;
  for (const auto& ip : r.ips) {
    if (ip.interface && r.interfaces[*ip.interface].name != link) continue;
    e.ips.push_back(ip.address.substr(0, ip.address.find('/')));
    if (!ip.gateway.empty()) e.gateway.push_back(ip.gateway);
  }
  return e;
}

// Masquerade is always the pod's primary network.
bool IsPrimary(const Config& c) { return c.binding == "masquerade" || c.primary; }

}  // namespace

api::PodLinkNames DerivedNames(const Config& c, const Env& env) {
  return api::DeriveLinkNames(PodLink(c, env), IsPrimary(c));
}

std::string NetworkStateDir(const Config& config) {
  return absl::StrCat(config.state_dir, "/", config.name);
}

std::string AttachmentDir(const Config& config, const Env& env) {
  return absl::StrCat(NetworkStateDir(config), "/", env.container_id, "/", env.ifname);
}

absl::StatusOr<binding::PodNetworkRequest> BuildRequest(const Config& c, const Env& env) {
  const bool masquerade = c.binding == "masquerade";
  const bool primary = IsPrimary(c);
  const std::string& link = PodLink(c, env);
  const api::PodLinkNames names = DerivedNames(c, env);
  for (const std::string* n : {&names.bridge, &names.tap, &names.nic}) {
    if (masquerade && n == &names.nic) continue;
    if (n->size() > api::kMaxIfNameLen)
      return Error(kInvalidEnvironment,
                   absl::StrCat("pod link ", link, " is too long: k6t would name a link ", *n,
                                " (more than ", api::kMaxIfNameLen, " characters)"));
  }

  binding::PodNetworkRequest req;
  api::Vmi& vmi = req.vmi;
  vmi.kind = "VirtualMachineInstance";
  vmi.source = "<cni config " + c.name + ">";
  vmi.spec_path = "spec";
  vmi.meta.namespace_ = Arg(env, "K8S_POD_NAMESPACE", "default");
  vmi.meta.name = Arg(env, "K8S_POD_NAME", env.container_id.substr(0, 63));
  // Seeds the bridge MAC: stable for the sandbox, distinct between sandboxes.
  vmi.meta.uid = env.container_id;

  api::Interface iface;
  iface.name = c.vm_interface;
  binding::BindByName(iface, c.binding);
  iface.mac_address = c.mac_address;
  iface.mtu = c.mtu;
  vmi.spec.domain.interfaces.push_back(iface);

  api::Network net;
  net.name = c.vm_interface;
  net.pod_interface = link;
  if (masquerade)
    net.pod = api::PodNetwork{c.vm_network_cidr, c.vm_ipv6_network_cidr};
  else
    net.multus = api::MultusNetwork{c.name, c.primary};
  vmi.spec.networks.push_back(net);

  req.pod_netns = env.netns;
  req.state_dir = AttachmentDir(c, env);
  req.network_status.push_back(StatusFromPrevResult(c, env, primary));
  req.options = binding::DefaultPlannerOptions();
  if (c.tap_owner) req.options.tap_owner = *c.tap_owner;
  if (c.tap_group) req.options.tap_group = *c.tap_group;
  req.executor = binding::Executor::OptionsFromEnvironment();
  return req;
}

}  // namespace k6t::handler::cni
