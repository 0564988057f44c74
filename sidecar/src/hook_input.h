// What KubeVirt's OnDefineDomain hands the sidecar, read and checked at the edge: the libvirt
// <domain> the converter made (libdomxml) and the VirtualMachineInstance as JSON (api's
// decoder, defaults and admission rules). Nothing past this point sees raw bytes.
//
// The VMI passed KubeVirt's admission already; k6t re-checks what k6t plans from — its
// interfaces and networks — and ignores what it does not use (disks, volumes, devices it does
// not emit), so a VMI KubeVirt runs is not refused for a feature k6t's own launcher lacks.
//
// Errors: InvalidArgument starting "domain XML: " (not well-formed, too large, a DTD, not a
// <domain>) or "VMI: " (not JSON, not exactly one VMI, an interface or network rule broken:
// one "path: message" per line). Thread-safety: pure. Privileges: none.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "k6t/api/vmi.h"
#include "k6t/domxml/xml.h"

namespace k6t::sidecar {

struct HookInput {
  domxml::XmlDocument domain;
  api::Vmi vmi;
};

// `plugins`: the binding plugins the cluster registered (the VMI's `binding: {name}` must
// name one); the VMI's own plugin names are accepted when empty.
absl::StatusOr<HookInput> ParseHookInput(std::string_view domain_xml, std::string_view vmi_json,
                                         const std::set<std::string>& plugins = {});

}  // namespace k6t::sidecar
