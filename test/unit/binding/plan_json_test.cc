// The public JSON form of plans (k6t/binding/plan_json.h): what `plan --output json` prints
// and the cache stores reads back to the same plan, and bad input is refused with a reason.
#include "k6t/binding/plan_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "k6t/binding/planner.h"
#include "test_pod.h"

namespace k6t::binding {
namespace {

using ::testing::HasSubstr;

std::vector<InterfacePlan> Plans() {
  testing::FakeKernel k;
  testing::BuildPod(k, /*ipv6=*/true);
  auto pod = ObservePod(k.kernel());
  EXPECT_TRUE(pod.ok()) << pod.status();
  std::vector<api::NetworkStatusEntry> none;
  auto plans = PlanVmi(PlanRequest{testing::MasqueradeAndBridgeVmi(), none, *pod, {}});
  EXPECT_TRUE(plans.ok()) << plans.status();
  return plans.ok() ? *plans : std::vector<InterfacePlan>{};
}

TEST(PlanJsonTest, EveryPlanReadsBackToTheSameDocument) {
  const auto plans = Plans();
  ASSERT_EQ(plans.size(), 2u);
  for (const auto& p : plans) {
    const std::string text = PlanToJson(p);
    auto back = PlanFromJson(text);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(PlanToJson(*back), text);
    EXPECT_EQ(back->ops.size(), p.ops.size());
    for (size_t i = 0; i < p.ops.size(); ++i) EXPECT_EQ(Describe(back->ops[i]), Describe(p.ops[i]));
  }
}

TEST(PlanJsonTest, PlansToJsonIsTheInterfacesDocument) {
  const auto plans = Plans();
  auto doc = nlohmann::json::parse(PlansToJson(plans), nullptr, false);
  ASSERT_TRUE(doc.is_object());
  ASSERT_EQ(doc["interfaces"].size(), plans.size());
  EXPECT_EQ(doc["interfaces"][0]["interface"], "default");
  EXPECT_EQ(doc["interfaces"][0]["ops"][0]["op"], "create_bridge");
  auto blue = PlanFromJson(doc["interfaces"][1].dump());
  ASSERT_TRUE(blue.ok()) << blue.status();
  EXPECT_EQ(blue->interface_name, "blue");
  EXPECT_EQ(blue->original_mac, plans[1].original_mac);
}

TEST(PlanJsonTest, BadInputIsRefusedWithTheReason) {
  auto not_json = PlanFromJson("{nope");
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(not_json.status().message(), HasSubstr("not valid JSON"));
  auto no_name = PlanFromJson(R"({"ops": []})");
  ASSERT_FALSE(no_name.ok());
  EXPECT_THAT(no_name.status().message(), HasSubstr("interface"));
  auto unknown = PlanFromJson(R"({"interface": "x", "ops": [{"op": "format_disk"}]})");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), HasSubstr("unknown operation \"format_disk\""));
  auto untagged = PlanFromJson(R"({"interface": "x", "ops": [{"name": "br0"}]})");
  ASSERT_FALSE(untagged.ok());
  EXPECT_THAT(untagged.status().message(), HasSubstr("\"op\""));
  // Fields an older writer left out take their defaults.
  auto minimal = PlanFromJson(R"({"interface": "x"})");
  ASSERT_TRUE(minimal.ok()) << minimal.status();
  EXPECT_EQ(minimal->queues, 1);
  EXPECT_TRUE(minimal->ops.empty());
}

}  // namespace
}  // namespace k6t::binding
