#pragma once
// passt: no links; passt (run by the launcher) gives the VM the pod's addresses in user space.

#include <memory>

#include "k6t/binding/binding.h"

namespace k6t::binding {

std::shared_ptr<const Binding> NewPasstBinding();

}  // namespace k6t::binding
