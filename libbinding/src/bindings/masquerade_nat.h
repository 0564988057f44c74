// The nftables NAT of the masquerade binding (KubeVirt's rules, reference §2.2), one table
// per IP family, applied atomically by the executor.
#pragma once

#include <string>
#include <vector>

#include "k6t/api/vmi.h"
#include "k6t/binding/plan.h"

namespace k6t::binding {

struct MasqueradeNat {
  std::string family;            // "ip" or "ip6"
  std::string table;             // k6t_nat
  std::string pod_iface;         // eth0: inbound traffic arrives here
  std::string bridge;            // k6t-eth0
  std::string gateway_ip;        // 10.0.2.1
  std::string vm_ip;             // 10.0.2.2
  std::vector<api::Port> ports;  // empty (and no ranges): forward everything
  std::vector<api::PortRange> port_ranges;
};

NftTable MasqueradeNatTable(const MasqueradeNat& nat);

}  // namespace k6t::binding
