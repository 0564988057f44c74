#pragma once
// SR-IOV: nothing in the pod; the VF named by Multus device-info becomes a <hostdev>.

#include <memory>

#include "k6t/binding/binding.h"

namespace k6t::binding {

std::shared_ptr<const Binding> NewSriovBinding();

}  // namespace k6t::binding
