#pragma once
// l2bridge (managedTap): the bridge plumbing without the fake server address and without
// DHCP, for primary user-defined networks whose provider (OVN) serves addresses itself.

#include <memory>

#include "k6t/binding/binding.h"

namespace k6t::binding {

std::shared_ptr<const Binding> NewL2BridgeBinding();

}  // namespace k6t::binding
