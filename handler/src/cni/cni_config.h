// What a CNI runtime hands k6t-cni: the CNI_* environment and the network configuration on
// stdin (with the previous plugin's result), parsed and checked against the CNI spec.
// Configuration schema (README "k6t-cni"):
//   {"cniVersion": "1.0.0", "name": "blue-net", "type": "k6t-cni",
//    "binding": "bridge" | "l2bridge" | "masquerade",       required
//    "vmInterface": "blue",          VMI interface name (cache key, logs); default: the
//                                    cni-args logicNetworkName KubeVirt sets, else "name"
//    "podInterface": "eth0",         plumb this pod link instead of CNI_IFNAME: k6t-cni as
//                                    its own attachment (a KubeVirt binding plugin's NAD),
//                                    not chained; prevResult is then optional
//    "macAddress": "02:..",          guest MAC; default: the pod link's
//    "mtu": 1400,                    bridge/tap/guest MTU; default: the pod link's
//    "primary": false,               bridge/l2bridge on the pod's default network (tap0)
//    "vmNetworkCIDR": "10.0.2.0/24", "vmIPv6NetworkCIDR": "fd10:0:2::/120"   masquerade
//    "tapOwner": 107, "tapGroup": 107,
//    "stateDir": "/var/lib/cni/k6t"  root; each attachment keeps
//                                    <root>/<network name>/<containerid>/<ifname>
//    "prevResult": {...}}            set by the runtime
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace k6t::handler::cni {

inline constexpr char kDefaultStateDir[] = "/var/lib/cni/k6t";
inline constexpr size_t kMaxConfigBytes = 1 << 20;

// Versions whose results k6t-cni writes; CHECK needs 0.4.0, STATUS and GC 1.1.0.
const std::vector<std::string>& SupportedVersions();
bool IsSupportedVersion(std::string_view v);
// Dotted-version comparison: VersionAtLeast("0.4.0", "0.3.1") is true.
bool VersionAtLeast(std::string_view v, std::string_view min);

struct Env {
  std::string command;  // ADD, DEL, CHECK, VERSION, STATUS, GC
  std::string container_id;
  std::string netns;
  std::string ifname;
  std::string path;
  std::map<std::string, std::string> args;  // CNI_ARGS "K=V;K=V"
};

// Reads and checks CNI_* for the command (the spec's required set per command), code 4 when
// something is missing or malformed. `getenv` is injectable for tests.
using EnvLookup = std::function<const char*(const char*)>;
absl::StatusOr<Env> ReadEnv(const EnvLookup& getenv);

struct ResultInterface {
  std::string name;
  std::string mac;
  std::string sandbox;
};

struct ResultIp {
  std::string address;  // CIDR
  std::string gateway;
  std::optional<int64_t> interface;  // index into the interfaces list
};

// The previous plugin's result, as far as k6t-cni reads it; `raw` is passed on.
struct PrevResult {
  std::vector<ResultInterface> interfaces;
  std::vector<ResultIp> ips;
  nlohmann::json raw;
};

struct Attachment {
  std::string container_id;
  std::string ifname;
};

struct Config {
  std::string cni_version;
  std::string name;
  std::string type;
  std::string binding;
  std::string vm_interface;
  std::string pod_interface;
  std::string mac_address;
  std::optional<int64_t> mtu;
  bool primary = false;
  std::string vm_network_cidr;
  std::string vm_ipv6_network_cidr;
  std::optional<uint32_t> tap_owner;
  std::optional<uint32_t> tap_group;
  std::string state_dir = kDefaultStateDir;
  std::optional<PrevResult> prev_result;
  std::vector<Attachment> valid_attachments;  // GC: "cni.dev/valid-attachments" (or the
                                              // older "cni.dev/attachments")
};

// The bindings k6t-cni plumbs: bridge, l2bridge, masquerade.
const std::vector<std::string>& CniBindings();

// Parses the stdin configuration: code 6 when it is not bounded JSON of the right shape,
// 1 for an unsupported cniVersion, 7 for values that are wrong (binding, names, MAC, MTU).
// Bounded: at most kMaxConfigBytes, nesting of 32 levels, 256 interfaces/IPs.
absl::StatusOr<Config> ParseConfig(std::string_view text);

// Only "cniVersion" (VERSION's stdin); empty when absent or unreadable.
std::string PeekVersion(std::string_view text);

// The pod link k6t plumbs: podInterface, else CNI_IFNAME.
const std::string& PodLink(const Config& config, const Env& env);

// The result interface named `ifname` inside a sandbox, or nullptr.
const ResultInterface* SandboxInterface(const PrevResult& r, const std::string& ifname);

}  // namespace k6t::handler::cni
