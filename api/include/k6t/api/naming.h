// Pod-side interface names (reference §3), matching what KubeVirt users see in a
// virt-launcher pod. Every derived name fits IFNAMSIZ (15 characters) by construction.
// Pure functions that cannot fail (a Multus-given name that is too long is reported by
// ValidatePodLinkNames, validate.h); thread-safe; no privileges.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "k6t/api/net.h"
#include "k6t/api/network_status.h"
#include "k6t/api/vmi.h"

namespace k6t::api {

inline constexpr size_t kMaxIfNameLen = 15;

// The MAC of masquerade's in-pod bridge k6t-eth0, as KubeVirt sets it; no guest may use it.
inline constexpr MacAddress kMasqueradeBridgeMac(MacAddress::Bytes{0x02, 0, 0, 0, 0, 0});

// "pod" + the first 11 hex digits of SHA-256(network name): `blue` -> pod16477688c0e.
std::string HashedPodInterfaceName(std::string_view network_name);

// Names k6t derives from a pod interface name.
struct PodLinkNames {
  std::string pod;     // the CNI's link: eth0, pod16477688c0e, net1, ovn-udn1
  std::string bridge;  // k6t-eth0, k6t-16477688c0e
  std::string tap;     // tap0 (primary), tap16477688c0e, tap1 (ordinal net1)
  std::string nic;     // renamed CNI link: eth0-nic, 16477688c0e-nic
};

// `primary` selects tap0 whatever the pod interface is called.
PodLinkNames DeriveLinkNames(std::string_view pod_iface, bool primary);

// Legacy ordinal scheme (net1, net2, ...) in use, judged like KubeVirt: any name `^net\d+$`.
bool IsOrdinalName(std::string_view name);

// Network name -> pod interface name, for every network of the VM with a pod link
// (pod, Multus; not SR-IOV's VF, which has no k6t link but is still named here).
// The primary is eth0 unless `status` marks another interface default (e.g. ovn-udn1);
// secondaries use the hashed scheme, or the ordinal one when `status` or
// `existing_links` show it is in use.
std::map<std::string, std::string> PodInterfaceNames(
    const Vmi& vmi, const std::vector<NetworkStatusEntry>& status = {},
    const std::vector<std::string>& existing_links = {});

}  // namespace k6t::api
