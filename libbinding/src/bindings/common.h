// Pieces the built-in bindings share: MAC/MTU choice, the bridge+tap+renamed-NIC plumbing
// of bridge and l2bridge, DHCP offer contents, address arithmetic.
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "k6t/binding/binding.h"
#include "k6t/binding/plan.h"

namespace k6t::binding {

// Spec MAC (normalised to lower-case colon form), else `fallback`.
std::string GuestMac(const api::Interface& iface, const std::string& fallback);

// Spec `mtu` (k6t extension), else the pod link's MTU.
int InterfaceMtu(const api::Interface& iface, const ObservedLink* pod_link);

// A locally administered MAC derived from `seed` (02:6b:36:xx:xx:xx), stable across runs.
std::string DerivedMac(const std::string& seed);

// Bridge `k6t-<x>`, the CNI link renamed `<x>-nic` (MAC of the bridge, learning off,
// enslaved), the tap, and a DOWN placeholder keeping the CNI link's name, MAC and addresses.
// `fake_ipv4` adds 169.254.75.1<index>/32 to the bridge (the DHCP server identifier).
void AppendBridgePlumbing(const BindingInput& in, bool fake_ipv4, InterfacePlan& plan);

// Records what teardown must give back to the CNI link.
void RecordOriginal(const ObservedLink& link, InterfacePlan& plan);

CreateTap TapOp(const BindingInput& in, const std::string& name, int mtu, int queues);

// The parts of a DHCPv4 offer that come from the VMI: hostname, DNS, dhcpOptions.
void FillVmiDhcpOptions(const BindingInput& in, DhcpV4Offer& offer);

// 169.254.75.1<index>
std::string FakeBridgeIPv4(int index);

// Parsed "a.b.c.d/n" or "x::y/n".
struct Cidr {
  bool v6 = false;
  unsigned char addr[16] = {};
  int prefix = 0;
};
absl::StatusOr<Cidr> ParseCidr(const std::string& cidr);
// Network address + `offset` as text, e.g. (10.0.2.0/24, 2) -> "10.0.2.2".
std::string HostAddress(const Cidr& net, unsigned offset);
// "10.0.2.0/24" for any address in it.
std::string NetworkOf(const Cidr& c);
std::string AddressOf(const Cidr& c);

}  // namespace k6t::binding
