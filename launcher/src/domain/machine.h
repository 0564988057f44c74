// Phase "machine" of the domain XML: who the domain is (type, name, uuid), what it has
// (memory, vCPUs and their topology), the <os> element (its boot source comes from the
// disks phase), features, CPU model, clock and lifecycle actions — everything before
// <devices>, in libvirt's order.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "domain_xml.h"
#include "k6t/api/vmi.h"
#include "k6t/domxml/xml.h"

namespace k6t::launcher {

// The VM's memory, or the launcher's default.
int64_t MemoryBytes(const api::Domain& dom);

// Appends the machine to `domain` and returns its <os> element, for the boot source.
// InvalidArgument for a CPU topology with a zero count.
absl::StatusOr<domxml::Element> AppendMachine(domxml::Element domain, const api::Vmi& vmi,
                                              const DomainOptions& options);

}  // namespace k6t::launcher
