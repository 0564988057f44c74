// Multus' `k8s.v1.cni.cncf.io/network-status` annotation and KubeVirt's `network-info`
// downward-API file: what the cluster's CNI gave the pod.
//
// Errors: the parsers return InvalidArgument naming the entry and field (or the JSON syntax
// error), also beyond their size and entry bounds. Thread-safety: pure functions. Privileges:
// none (the caller reads the annotation or file).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace k6t::api {

struct PciDeviceInfo {
  std::string pci_address;  // 0000:65:00.2
  std::string vhost_net;
  std::string rdma_device;
  std::string pf_pci_address;
  std::string representor_device;
};

struct DeviceInfo {
  std::string type;  // "pci", "vdpa", ...
  std::string version;
  std::optional<PciDeviceInfo> pci;
};

struct Dns {
  std::vector<std::string> nameservers;
  std::string domain;
  std::vector<std::string> search;
};

struct NetworkStatusEntry {
  std::string name;       // "namespace/nad-name", or the cluster default network's name
  std::string interface;  // pod link name
  std::vector<std::string> ips;
  std::string mac;
  std::optional<int64_t> mtu;
  bool is_default = false;
  Dns dns;
  std::vector<std::string> gateway;
  std::optional<DeviceInfo> device_info;
};

// Parses the annotation value (a JSON list). Bounded: at most 1 MiB and 256 entries.
// Errors name the entry and field: `[2].ips[0]: "10.0.0.300" is not an IP address`.
absl::StatusOr<std::vector<NetworkStatusEntry>> ParseNetworkStatus(std::string_view json);
std::string SerializeNetworkStatus(const std::vector<NetworkStatusEntry>& entries);

// KubeVirt's network-info file: {"interfaces":[{"network":..,"deviceInfo":{..},"mac":..}]}
struct NetworkInfoInterface {
  std::string network;  // the VMI network name
  std::optional<DeviceInfo> device_info;
  std::string mac;
  std::optional<int64_t> mtu;
};
absl::StatusOr<std::vector<NetworkInfoInterface>> ParseNetworkInfo(std::string_view json);

}  // namespace k6t::api
