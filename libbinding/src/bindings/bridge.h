#pragma once
// Bridge: the VM takes the pod link's own address and MAC on an L2 bridge with the renamed
// CNI link; k6t's DHCP hands it that address.

#include <memory>

#include "k6t/binding/binding.h"

namespace k6t::binding {

std::shared_ptr<const Binding> NewBridgeBinding();

}  // namespace k6t::binding
