#include "k6t/api/naming.h"

#include <cctype>

#include "absl/strings/str_cat.h"
#include "net_util.h"

namespace k6t::api {

std::string HashedPodInterfaceName(std::string_view network_name) {
  // 11 hex digits keep the longest derived name (`<hash>-nic`) at exactly 15 characters.
  return absl::StrCat("pod", internal::Sha256Hex(network_name).substr(0, 11));
}

PodLinkNames DeriveLinkNames(std::string_view pod_iface, bool primary) {
  const std::string pod(pod_iface);
  const std::string base = pod.rfind("pod", 0) == 0 ? pod.substr(3) : pod;
  PodLinkNames n;
  n.pod = pod;
  n.bridge = absl::StrCat("k6t-", base);
  // KubeVirt drops the first three characters ("pod" of the hashed scheme, "net" of the
  // ordinal one) for secondary taps.
  n.tap = primary ? "tap0" : absl::StrCat("tap", pod.size() > 3 ? pod.substr(3) : pod);
  n.nic = absl::StrCat(base, "-nic");
  return n;
}

bool IsOrdinalName(std::string_view name) {
  if (name.size() < 4 || name.substr(0, 3) != "net") return false;
  for (char c : name.substr(3))
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::map<std::string, std::string> PodInterfaceNames(
    const Vmi& vmi, const std::vector<NetworkStatusEntry>& status,
    const std::vector<std::string>& existing_links) {
  std::string primary = "eth0";
  bool ordinal = false;
  for (const auto& e : status) {
    if (e.is_default && !e.interface.empty()) primary = e.interface;
    if (IsOrdinalName(e.interface)) ordinal = true;
  }
  for (const auto& l : existing_links)
    if (IsOrdinalName(l)) ordinal = true;

  std::map<std::string, std::string> out;
  int next_ordinal = 1;
  for (const auto& net : vmi.spec.networks) {
    if (!net.pod_interface.empty()) {
      out[net.name] = net.pod_interface;
    } else if (net.primary()) {
      out[net.name] = primary;
    } else if (net.multus) {
      out[net.name] =
          ordinal ? absl::StrCat("net", next_ordinal++) : HashedPodInterfaceName(net.name);
    }
  }
  return out;
}

}  // namespace k6t::api
