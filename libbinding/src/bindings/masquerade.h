#pragma once
// Masquerade (pod network only): the VM sits behind NAT on k6t-eth0 (10.0.2.0/24,
// fd10:0:2::/120), inbound traffic to declared ports is DNATed to it.

#include <memory>

#include "k6t/binding/binding.h"

namespace k6t::binding {

std::shared_ptr<const Binding> NewMasqueradeBinding();

}  // namespace k6t::binding
