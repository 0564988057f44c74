// `k6t-handler plan` output: per interface, the pod-side plumbing as a small tree, the
// operations in order, the nftables tables, the DHCP/RA offer and the domain fragment; or
// the same as JSON for machines.
#pragma once

#include <string>
#include <vector>

#include "k6t/binding/plan.h"

namespace k6t::handler {

std::string PlansToText(const std::vector<binding::InterfacePlan>& plans);
std::string PlansToJson(const std::vector<binding::InterfacePlan>& plans);

}  // namespace k6t::handler
