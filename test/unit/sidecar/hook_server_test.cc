// The hook API over real gRPC on a unix socket: what virt-launcher asks (Info), both
// Callbacks versions, a refusal that leaves the server serving, PreCloudInitIso, Shutdown.
#include "hook_server.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "hooks_info.grpc.pb.h"
#include "hooks_v1alpha2.grpc.pb.h"
#include "hooks_v1alpha3.grpc.pb.h"
#include "sidecar_test_pod.h"
#include "test/support/shell.h"

namespace k6t::sidecar {
namespace {

namespace info = kubevirt::hooks::info;
namespace v2 = kubevirt::hooks::v1alpha2;
namespace v3 = kubevirt::hooks::v1alpha3;

class RecordingSink : public PlanSink {
 public:
  absl::Status Serve(const std::vector<binding::InterfacePlan>& plans) override {
    std::lock_guard lock(mu);
    for (const auto& p : plans) served.push_back(p.interface_name);
    return absl::OkStatus();
  }
  std::mutex mu;
  std::vector<std::string> served;
};

class HookServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HookServerOptions options;
    options.socket_path = testsupport::TempDir() + "/k6t.sock";
    options.name = "k6t-bridge";
    options.network_info = network_info_;
    auto s = HookServer::Start(options, pod_.Observer(), &sink_);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
    channel_ =
        grpc::CreateChannel("unix:" + options.socket_path, grpc::InsecureChannelCredentials());
  }

  template <typename Stub, typename Params, typename Result>
  grpc::Status Define(const std::string& domain, const std::string& vmi, std::string* out) {
    auto stub = Stub::NewStub(channel_);
    grpc::ClientContext ctx;
    Params p;
    p.set_domainxml(domain);
    p.set_vmi(vmi);
    Result r;
    grpc::Status st = stub->OnDefineDomain(&ctx, p, &r);
    *out = r.domainxml();
    return st;
  }

  std::string vmi_ = testing::ReadTestdata("vmi.json");
  std::string domain_ = testing::ReadTestdata("domain.xml");
  // KubeVirt's downward-API file; absent here (SR-IOV and device-info plugins only).
  std::string network_info_ = testsupport::TempDir() + "/network-info";
  testing::PluggedPod pod_ = testing::PlumbPod(vmi_);
  RecordingSink sink_;
  std::unique_ptr<HookServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(HookServerTest, InfoNamesTheHookPointsAndVersions) {
  auto stub = info::Info::NewStub(channel_);
  grpc::ClientContext ctx;
  info::InfoResult r;
  ASSERT_TRUE(stub->Info(&ctx, info::InfoParams(), &r).ok());
  EXPECT_EQ(r.name(), "k6t-bridge");
  std::vector<std::string> points;
  for (const auto& p : r.hookpoints()) points.push_back(p.name());
  EXPECT_THAT(points, ::testing::ElementsAre("OnDefineDomain", "Shutdown"));
  EXPECT_THAT(r.versions(), ::testing::ElementsAre("v1alpha3", "v1alpha2"));
}

TEST_F(HookServerTest, BothVersionsRewriteAlikeAndARefusalLeavesTheServerServing) {
  std::string v3_xml, v2_xml, refused;
  ASSERT_TRUE((Define<v3::Callbacks, v3::OnDefineDomainParams, v3::OnDefineDomainResult>(
                   domain_, vmi_, &v3_xml))
                  .ok());
  EXPECT_THAT(v3_xml, ::testing::HasSubstr("<target dev='tap16477688c0e' managed='no'/>"));
  grpc::Status bad = Define<v3::Callbacks, v3::OnDefineDomainParams, v3::OnDefineDomainResult>(
      "<domain><devices>", vmi_, &refused);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad.error_message(), ::testing::HasSubstr("domain XML"));
  EXPECT_TRUE(refused.empty());
  ASSERT_TRUE((Define<v2::Callbacks, v2::OnDefineDomainParams, v2::OnDefineDomainResult>(
                   domain_, vmi_, &v2_xml))
                  .ok());
  EXPECT_EQ(v2_xml, v3_xml);
  std::lock_guard lock(sink_.mu);
  EXPECT_THAT(sink_.served, ::testing::ElementsAre("default", "blue", "default", "blue"));
}

TEST_F(HookServerTest, NetworkInfoIsReadWhenPresentAndAMalformedOneIsRefused) {
  std::string out;
  testsupport::ShOk(
      "printf '%s' '{\"interfaces\":[{\"network\":\"blue\",\"mac\":\"02:00:00:00:00:0b\"}]}' >" +
      network_info_);
  EXPECT_TRUE((Define<v3::Callbacks, v3::OnDefineDomainParams, v3::OnDefineDomainResult>(
                   domain_, vmi_, &out))
                  .ok());
  testsupport::ShOk("printf '{\"interfaces\": 7' >" + network_info_);
  grpc::Status st = Define<v3::Callbacks, v3::OnDefineDomainParams, v3::OnDefineDomainResult>(
      domain_, vmi_, &out);
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.error_message(), ::testing::HasSubstr("network-info " + network_info_));
}

TEST_F(HookServerTest, PreCloudInitIsoReturnsTheDataUnchanged) {
  auto stub = v3::Callbacks::NewStub(channel_);
  grpc::ClientContext ctx;
  v3::PreCloudInitIsoParams p;
  p.set_cloudinitdata("{\"userData\":\"#cloud-config\\n\"}");
  p.set_cloudinitnocloudsource("{\"userData\":\"x\"}");
  v3::PreCloudInitIsoResult r;
  ASSERT_TRUE(stub->PreCloudInitIso(&ctx, p, &r).ok());
  EXPECT_EQ(r.cloudinitdata(), p.cloudinitdata());
  EXPECT_EQ(r.cloudinitnocloudsource(), p.cloudinitnocloudsource());
}

TEST_F(HookServerTest, ShutdownEndsWait) {
  auto stub = v3::Callbacks::NewStub(channel_);
  grpc::ClientContext ctx;
  v3::ShutdownResult r;
  ASSERT_TRUE(stub->Shutdown(&ctx, v3::ShutdownParams(), &r).ok());
  server_->Wait();  // returns: Shutdown was called
  server_->Stop();
}

TEST(HookServerStartTest, APathThatIsNotASocketIsNotReplaced) {
  const std::string path = testsupport::TempDir() + "/k6t.sock";
  testsupport::ShOk("touch " + path);
  HookServerOptions options;
  options.socket_path = path;
  auto s = HookServer::Start(options, {}, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace k6t::sidecar
