// What a binding decides for one VMI interface: the pod-side operations, the device the
// guest gets (guest_device.h), and what the in-pod DHCP/RA servers must offer. Plain values: the
// planner produces them without touching the kernel, the executor applies them, the cache stores
// them as JSON.
//
// Plain values: no errors, no locking (copy or share read-only across threads), no
// privileges. Applying them needs CAP_NET_ADMIN (executor.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "k6t/api/dhcp_offer.h"
#include "k6t/binding/guest_device.h"

namespace k6t::binding {

// ---- Pod-side operations. Each is declarative ("this should exist / be so"), so applying
// an operation whose effect is already present is a no-op; the executor records an undo
// step only for what it actually changed.

enum class PlaceholderKind { kDummy, kIfb };  // ifb where the kernel has no dummy driver

struct CreateBridge {
  std::string name;
  std::string mac;  // empty: leave the kernel's choice
  int mtu = 0;      // 0: kernel default
};

struct CreateTap {
  std::string name;
  uint32_t owner = 0;
  uint32_t group = 0;
  int queues = 1;  // >1: IFF_MULTI_QUEUE
  int mtu = 0;
};

// A DOWN link that keeps the CNI link's original name, MAC and addresses (bridge binding).
struct CreatePlaceholder {
  std::string name;
  PlaceholderKind kind = PlaceholderKind::kDummy;
  std::string mac;
  int mtu = 0;
};

// The CNI's link is also identified by its ifindex (stable across renames), so that an
// apply resumed after a crash finds it whatever it is called by then.
struct RenameLink {
  std::string from;
  std::string to;
  int index = 0;  // 0: by name only
};

struct SetLinkMac {
  std::string link;
  std::string mac;
};

struct SetLinkMtu {
  std::string link;
  int mtu = 0;
};

struct SetLinkMaster {
  std::string link;
  std::string master;
};

struct SetLinkUp {
  std::string link;
  bool up = true;
};

// Bridge-port learning on a bridge port (IFLA_BRPORT_LEARNING).
struct SetPortLearning {
  std::string link;
  bool learning = false;
};

struct AddAddress {
  std::string link;
  std::string cidr;  // "10.0.2.1/24", "fd10:0:2::1/120"
};

// Removes every address of `link` (the executor records them for undo) except the IPv6
// link-local ones, which the kernel regenerates when the link comes up, unless `link_local`
// (teardown: the kernel's link-local derived from k6t's MAC must go with that MAC).
struct FlushAddresses {
  std::string link;
  int index = 0;  // 0: by name only
  bool link_local = false;
};

struct AddRoute {
  std::string link;
  std::string destination;  // CIDR
  std::string gateway;      // "" on-link
};

// Teardown only: deletes `name` if it exists and is of `kind` (never a CNI-owned link).
struct DeleteLink {
  std::string name;
  std::string kind;  // "bridge", "tun", "dummy", "ifb"
};

// `key` relative to /proc/sys/net, e.g. "ipv4/ip_forward", "ipv4/conf/k6t-eth0/route_localnet".
struct SetSysctl {
  std::string key;
  std::string value;
  // Value teardown writes back (read when the plan was made); empty: nothing to restore
  // (per-link keys of links k6t deletes).
  std::string restore;
};

// One nftables table, applied (and replaced) as one atomic transaction.
struct NftTable {
  std::string family;  // "ip" or "ip6"
  std::string name;    // k6t_nat
  std::string body;    // nft syntax of the table's chains and rules, without "table x y {}"
};

// Teardown only: deletes the table; absent is fine.
struct DeleteNftTable {
  std::string family;
  std::string name;
};

using Operation =
    std::variant<CreateBridge, CreateTap, CreatePlaceholder, RenameLink, SetLinkMac, SetLinkMtu,
                 SetLinkMaster, SetLinkUp, SetPortLearning, AddAddress, FlushAddresses, AddRoute,
                 SetSysctl, NftTable, DeleteLink, DeleteNftTable>;

// One line, e.g. `create bridge k6t-eth0 mac=02:00:00:00:00:00 mtu=1400`.
std::string Describe(const Operation& op);

// ---- What the in-pod servers offer the guest on this interface: value types of the ground
// floor (k6t/api/dhcp_offer.h), shared with libdhcp, which serves them.
using api::DhcpPlan;
using api::DhcpV4Offer;
using api::DhcpV6Offer;
using api::Route;
using api::RouterAdvert;

// ---- What passt serves the guest (the launcher runs it, or libvirt where it has a passt
// backend). The guest's NIC on it is the plan's device (DeviceKind::kPasst).
struct PasstPlan {
  std::string pod_interface;                          // interface passt takes addresses from
  std::vector<std::pair<std::string, int>> forwards;  // {"tcp"|"udp", port}; empty: all
  int mtu = 0;                                        // offered to the guest
};

// ---- The whole decision for one interface.
struct InterfacePlan {
  std::string interface_name;  // VMI interface name
  std::string network_name;
  std::string binding;        // registry name: masquerade, bridge, l2bridge, sriov, passt, ...
  std::string pod_interface;  // the CNI's link name (eth0, pod<hash>, ovn-udn1)
  std::string mac;            // the guest MAC (spec MAC, else the pod link's)
  int mtu = 0;
  int queues = 1;
  std::vector<Operation> ops;
  // The guest's NIC. Absent only in a plan cached by a k6t before it was typed (cache
  // schema 1): that plan can be torn down but not given to a VM again.
  std::optional<GuestDevice> device;
  std::optional<DhcpPlan> dhcp;
  std::optional<PasstPlan> passt;
  std::vector<std::string> notes;  // e.g. "kernel has no dummy driver: placeholder is ifb"
  // What teardown must restore: the CNI link's name/MAC/addresses before k6t touched it.
  std::string original_mac;
  std::vector<std::string> original_addresses;
  // Its IPv6 link-local address(es). Kept apart: the placeholder must not take them, and
  // teardown must put them back itself, since the kernel keeps the one it derived from
  // k6t's MAC when the original MAC returns.
  std::vector<std::string> original_link_local;
  std::vector<Route> original_routes;
  int original_mtu = 0;
  int original_index = 0;  // ifindex of the CNI link
};

}  // namespace k6t::binding
