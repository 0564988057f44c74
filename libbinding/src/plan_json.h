// nlohmann JSON conversions of plan values, shared by the cache and the plan printer.
#pragma once

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "k6t/binding/plan.h"

namespace k6t::binding {

nlohmann::json OperationToJson(const Operation& op);
absl::StatusOr<Operation> OperationFromJson(const nlohmann::json& j);
nlohmann::json DhcpPlanToJson(const DhcpPlan& d);
DhcpPlan DhcpPlanFromJson(const nlohmann::json& j);
nlohmann::json PlanToJsonValue(const InterfacePlan& p);
absl::StatusOr<InterfacePlan> PlanFromJsonValue(const nlohmann::json& j);

}  // namespace k6t::binding
