// Pieces the built-in bindings share: MAC/MTU choice, the bridge+tap+renamed-NIC plumbing
// of bridge and l2bridge, DHCP offer contents.
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "k6t/binding/binding.h"
#include "k6t/binding/plan.h"

namespace k6t::binding {

// Spec MAC (canonical since decode, api::MacAddress), else `fallback`.
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

}  // namespace k6t::binding
