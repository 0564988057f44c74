// `k6t-handler plan` text output: per interface, the pod-side plumbing as a small tree, the
// operations in order, the nftables tables, the DHCP/RA offer and the domain fragment (the
// JSON form is libbinding's PlansToJson, k6t/binding/plan_json.h).
#pragma once

#include <string>
#include <vector>

#include "k6t/binding/plan.h"

namespace k6t::handler {

std::string PlansToText(const std::vector<binding::InterfacePlan>& plans);

}  // namespace k6t::handler
