#include "test_pod.h"

namespace k6t::binding::testing {

void AddEth0(FakeKernel& k) {
  Link eth0;
  eth0.name = "eth0";
  eth0.kind = "veth";
  eth0.mac = "0a:58:0a:f4:00:05";
  eth0.mtu = 1400;
  eth0.admin_up = eth0.oper_up = true;
  k.AddLink(eth0);
  k.AddPodAddress("eth0", "10.244.0.5/24");
  k.AddPodRoute("eth0", "10.244.0.0/24", "");
}

void BuildPod(FakeKernel& k, bool ipv6, bool blue) {
  AddEth0(k);
  k.AddPodRoute("eth0", "0.0.0.0/0", "10.244.0.1");
  if (ipv6) {
    k.AddPodAddress("eth0", "fd00:10:244::5/64");
    k.AddPodRoute("eth0", "::/0", "fd00:10:244::1");
  }
  if (blue) {
    Link b;
    b.name = "pod16477688c0e";
    b.kind = "veth";
    b.mac = "0a:58:c0:a8:64:0a";
    b.mtu = 1500;
    b.admin_up = b.oper_up = true;
    k.AddLink(b);
    k.AddPodAddress("pod16477688c0e", "192.168.100.10/24");
    k.AddPodRoute("pod16477688c0e", "192.168.100.0/24", "");
    k.AddPodRoute("pod16477688c0e", "10.10.0.0/16", "192.168.100.1");
  }
  k.SetSysctlValue("ipv4/ip_forward", "0");
  k.SetSysctlValue("ipv6/conf/all/forwarding", "0");
  k.SetSysctlValue("ipv4/conf/all/arp_ignore", "0");
  k.SetSysctlValue("ipv4/ping_group_range", "1\t0");
  k.SetSysctlValue("ipv4/ip_unprivileged_port_start", "1024");
}

api::Interface MakeInterface(const std::string& name, api::BindingMethod m) {
  api::Interface i;
  i.name = name;
  i.bindings = {m};
  return i;
}

api::Network PodNetwork(const std::string& name) {
  api::Network n;
  n.name = name;
  n.pod = api::PodNetwork{};
  return n;
}

api::Network MultusNetwork(const std::string& name, const std::string& nad, bool is_default) {
  api::Network n;
  n.name = name;
  n.multus = api::MultusNetwork{nad, is_default};
  return n;
}

api::Vmi MasqueradeVmi() {
  api::Vmi v;
  v.kind = "VirtualMachineInstance";
  v.meta.name = "vm1";
  v.meta.namespace_ = "ns";
  v.meta.uid = "6a1b0c8e-0000-4000-8000-000000000001";
  v.spec_path = "spec";
  v.spec.domain.interfaces.push_back(MakeInterface("default", api::BindingMethod::kMasquerade));
  v.spec.networks.push_back(PodNetwork());
  return v;
}

api::Vmi MasqueradeAndBridgeVmi() {
  api::Vmi v = MasqueradeVmi();
  v.spec.domain.interfaces.push_back(MakeInterface("blue", api::BindingMethod::kBridge));
  v.spec.networks.push_back(MultusNetwork("blue", "blue-net"));
  return v;
}

}  // namespace k6t::binding::testing
