#include "hook_server.h"

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "hooks_info.grpc.pb.h"
#include "hooks_v1alpha2.grpc.pb.h"
#include "hooks_v1alpha3.grpc.pb.h"
#include "k6t/api/network_status.h"
#include "spdlog/spdlog.h"

namespace k6t::sidecar {
namespace {

namespace info = ::kubevirt::hooks::info;
namespace v1alpha2 = ::kubevirt::hooks::v1alpha2;
namespace v1alpha3 = ::kubevirt::hooks::v1alpha3;

// Domain XML (domxml::kMaxXmlBytes) and VMI JSON (api::DecodeLimits) with room to spare.
constexpr int kMaxMessageBytes = 32 << 20;

// absl and gRPC number their codes alike.
grpc::Status ToGrpc(const absl::Status& st) {
  if (st.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(st.code()), std::string(st.message()));
}

// The network-info file when it exists; an unreadable or malformed one is an error (the
// planner would otherwise miss what it says).
absl::StatusOr<std::vector<api::NetworkInfoInterface>> ReadNetworkInfo(const std::string& path) {
  if (path.empty() || ::access(path.c_str(), F_OK) != 0)
    return std::vector<api::NetworkInfoInterface>{};
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": ", std::strerror(errno)));
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().empty()) return std::vector<api::NetworkInfoInterface>{};
  auto parsed = api::ParseNetworkInfo(text.str());
  if (!parsed.ok())
    return absl::Status(parsed.status().code(),
                        absl::StrCat("network-info ", path, ": ", parsed.status().message()));
  return parsed;
}

}  // namespace

struct HookServer::Impl : info::Info::Service {
  HookServerOptions options;
  binding::PodNetworkRequest pod;
  PlanSink* sink = nullptr;
  std::mutex define_mu;
  absl::Notification shutdown;
  std::once_flag stopped;
  // The Callbacks services (v1alpha2, v1alpha3), declared before the server that uses them.
  std::vector<std::unique_ptr<grpc::Service>> callbacks;
  std::unique_ptr<grpc::Server> server;

  // The two Callbacks versions carry the same messages in different packages.
  template <typename Params, typename Result>
  grpc::Status Define(const Params& params, Result& result) {
    std::lock_guard lock(define_mu);
    const auto start = std::chrono::steady_clock::now();
    binding::PodNetworkRequest req = pod;
    auto network_info = ReadNetworkInfo(options.network_info);
    if (!network_info.ok()) return ToGrpc(network_info.status());
    req.network_info = *std::move(network_info);
    auto defined = DefineDomain(params.domainxml(), params.vmi(), options.define, req);
    if (!defined.ok()) {
      spdlog::warn("OnDefineDomain refused: {}", defined.status().ToString());
      return ToGrpc(defined.status());
    }
    if (sink && !defined->plans.empty())
      if (auto st = sink->Serve(defined->plans); !st.ok())
        spdlog::error("dhcp: cannot serve: {}", st.ToString());
    result.set_domainxml(std::move(defined->domain_xml));
    spdlog::info("OnDefineDomain: {} interface(s) rewritten in {} ms", defined->plans.size(),
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count());
    return grpc::Status::OK;
  }

  grpc::Status Info(grpc::ServerContext*, const info::InfoParams*,
                    info::InfoResult* result) override {
    result->set_name(options.name);
    for (const char* point : {kHookPointOnDefineDomain, kHookPointShutdown}) {
      info::HookPoint* p = result->add_hookpoints();
      p->set_name(point);
      p->set_priority(options.priority);
    }
    result->add_versions("v1alpha3");
    result->add_versions("v1alpha2");
    return grpc::Status::OK;
  }
};

namespace {

// The Callbacks of v1alpha2 and v1alpha3: the same calls on messages of two packages.
template <typename Service, typename DefineParams, typename DefineResult, typename IsoParams,
          typename IsoResult>
class Callbacks : public Service {
 public:
  explicit Callbacks(HookServer::Impl& impl) : impl_(impl) {}
  grpc::Status OnDefineDomain(grpc::ServerContext*, const DefineParams* p,
                              DefineResult* r) override {
    return impl_.Define(*p, *r);
  }
  grpc::Status PreCloudInitIso(grpc::ServerContext*, const IsoParams* p, IsoResult* r) override {
    r->set_cloudinitnocloudsource(p->cloudinitnocloudsource());
    r->set_cloudinitdata(p->cloudinitdata());
    return grpc::Status::OK;
  }

 protected:
  HookServer::Impl& impl_;
};

using CallbacksV1alpha2 = Callbacks<v1alpha2::Callbacks::Service, v1alpha2::OnDefineDomainParams,
                                    v1alpha2::OnDefineDomainResult, v1alpha2::PreCloudInitIsoParams,
                                    v1alpha2::PreCloudInitIsoResult>;
using CallbacksV1alpha3Base =
    Callbacks<v1alpha3::Callbacks::Service, v1alpha3::OnDefineDomainParams,
              v1alpha3::OnDefineDomainResult, v1alpha3::PreCloudInitIsoParams,
              v1alpha3::PreCloudInitIsoResult>;

class CallbacksV1alpha3 final : public CallbacksV1alpha3Base {
 public:
  using CallbacksV1alpha3Base::CallbacksV1alpha3Base;
  grpc::Status Shutdown(grpc::ServerContext*, const v1alpha3::ShutdownParams*,
                        v1alpha3::ShutdownResult*) override {
    spdlog::info("Shutdown called: the VM is gone");
    if (!impl_.shutdown.HasBeenNotified()) impl_.shutdown.Notify();
    return grpc::Status::OK;
  }
};

// A socket file left by an earlier run is replaced; anything else at the path is not ours.
absl::Status ClearStaleSocket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return absl::OkStatus();
  if (!S_ISSOCK(st.st_mode))
    return absl::AlreadyExistsError(absl::StrCat(path, " exists and is not a socket"));
  if (::unlink(path.c_str()) != 0)
    return absl::UnavailableError(
        absl::StrCat("removing stale ", path, ": ", std::strerror(errno)));
  return absl::OkStatus();
}

}  // namespace

HookServer::HookServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HookServer::~HookServer() { Stop(); }

absl::StatusOr<std::unique_ptr<HookServer>> HookServer::Start(HookServerOptions options,
                                                              binding::PodNetworkRequest pod,
                                                              PlanSink* sink) {
  if (auto st = ClearStaleSocket(options.socket_path); !st.ok()) return st;
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->pod = std::move(pod);
  impl->sink = sink;
  impl->callbacks.push_back(std::make_unique<CallbacksV1alpha2>(*impl));
  impl->callbacks.push_back(std::make_unique<CallbacksV1alpha3>(*impl));

  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + impl->options.socket_path, grpc::InsecureServerCredentials());
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  builder.RegisterService(impl.get());
  for (const auto& service : impl->callbacks) builder.RegisterService(service.get());
  impl->server = builder.BuildAndStart();
  if (!impl->server)
    return absl::UnavailableError(absl::StrCat("cannot serve on ", impl->options.socket_path,
                                               " (does the directory exist and is it writable?)"));
  spdlog::info("serving KubeVirt hooks (v1alpha3, v1alpha2) as \"{}\" on {}", impl->options.name,
               impl->options.socket_path);
  return std::unique_ptr<HookServer>(new HookServer(std::move(impl)));
}

void HookServer::Wait() { impl_->shutdown.WaitForNotification(); }

void HookServer::Stop() {
  std::call_once(impl_->stopped, [this] {
    if (!impl_->shutdown.HasBeenNotified()) impl_->shutdown.Notify();
    impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    impl_->server->Wait();
    ::unlink(impl_->options.socket_path.c_str());
    spdlog::info("hook server stopped");
  });
}

}  // namespace k6t::sidecar
