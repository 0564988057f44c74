// nlohmann JSON values of plan values, shared by the public text form (plan_json.h) and the
// state-dir cache, which nests a plan in its own document.
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
