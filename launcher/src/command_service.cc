#include "command_service.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "dhcp_service.h"
#include "domain_xml.h"
#include "k6t/api/decode.h"
#include "k6t/api/validate.h"
#include "spdlog/spdlog.h"

namespace k6t::launcher {
namespace {

namespace msg = api::rpc;

template <typename Params>
absl::StatusOr<Params> ParseParams(const std::string& json) {
  Params p;
  if (auto st = msg::FromJson(json, &p); !st.ok()) return st;
  return p;
}

// A handler taking its params already parsed (strictly, as rpc.h promises).
template <typename Params, typename Fn>
rpc::MethodHandler Typed(Fn fn) {
  return [fn = std::move(fn)](const std::string& json) -> absl::StatusOr<std::string> {
    auto p = ParseParams<Params>(json);
    if (!p.ok()) return p.status();
    return fn(*p);
  };
}

template <typename Result>
absl::StatusOr<std::string> Encoded(const absl::StatusOr<Result>& r) {
  if (!r.ok()) return r.status();
  return msg::ToJson(*r);
}

absl::StatusOr<std::string> Changed(absl::StatusOr<bool> r) {
  if (!r.ok()) return r.status();
  return msg::ToJson(msg::ChangedResult{*r});
}

}  // namespace

CommandService::CommandService(rpc::ServerOptions options, DhcpService* dhcp,
                               absl::Duration default_shutdown_timeout)
    : options_(std::move(options)),
      dhcp_(dhcp),
      default_shutdown_timeout_(default_shutdown_timeout) {}

CommandService::~CommandService() { Stop(); }

rpc::MethodHandler CommandService::Counted(rpc::MethodHandler h) {
  return [this, h = std::move(h)](const std::string& params) {
    ++in_flight_;
    auto r = h(params);
    --in_flight_;
    return r;
  };
}

absl::Status CommandService::Start(Launcher& launcher) {
  launcher_ = &launcher;
  hotplug_ = std::make_unique<Hotplug>(launcher, dhcp_);
  migration_ = std::make_unique<MigrationJob>(launcher, dhcp_, hotplug_.get());
  server_ = std::make_unique<rpc::Server>(options_);
  RegisterMethods();
  return server_->Start();
}

void CommandService::RegisterMethods() {
  Launcher& l = *launcher_;
  Hotplug& hp = *hotplug_;
  server_->Register(
      msg::kMethodSyncVmi,
      Counted(Typed<msg::SyncVmiParams>(
          [&l, &hp](const msg::SyncVmiParams& p) -> absl::StatusOr<std::string> {
            auto vmi = api::DecodeSingleVmi(p.vmi_json, "params.vmi");
            if (!vmi.ok()) return vmi.status();
            if (auto errors = api::Validate(*vmi); !errors.empty())
              return absl::InvalidArgumentError(
                  absl::StrCat("params.vmi: ", errors.front().ToString()));
            if (!l.domain()) return absl::FailedPreconditionError("SyncVMI: libvirt is not up yet");
            if (DomainName(*vmi) != l.domain()->name())
              return absl::InvalidArgumentError(absl::StrCat("params.vmi: this launcher runs ",
                                                             l.domain()->name(), ", not ",
                                                             DomainName(*vmi)));
            std::vector<std::string> changes;
            if (auto st = hp.Reconcile(*vmi, &changes); !st.ok()) return st;
            spdlog::info("SyncVMI: {}",
                         changes.empty() ? "nothing to change" : absl::StrJoin(changes, "; "));
            return msg::ToJson(
                msg::SyncVmiResult{DomainPhaseName(l.status().phase), l.domain()->name()});
          })),
      {.exclusive = true});
  server_->Register(msg::kMethodShutdown,
                    Counted(Typed<msg::ShutdownParams>(
                        [this, &l](const msg::ShutdownParams& p) -> absl::StatusOr<std::string> {
                          const absl::Duration t = p.timeout_seconds > 0
                                                       ? absl::Seconds(p.timeout_seconds)
                                                       : default_shutdown_timeout_;
                          auto o = l.Shutdown(t);
                          if (!o.ok()) return o.status();
                          spdlog::info("Shutdown: {}", o->message);
                          return msg::ToJson(msg::Empty{});
                        })));
  server_->Register(
      msg::kMethodKill,
      Counted(Typed<msg::Empty>([&l](const msg::Empty&) -> absl::StatusOr<std::string> {
        auto o = l.Kill();
        if (!o.ok()) return o.status();
        spdlog::info("Kill: {}", o->message);
        return msg::ToJson(msg::Empty{});
      })));
  server_->Register(
      msg::kMethodGetDomain,
      Counted(Typed<msg::Empty>([&hp](const msg::Empty&) { return Encoded(hp.Domain()); })));
  server_->Register(
      msg::kMethodGetStatus,
      Counted(Typed<msg::Empty>([&hp](const msg::Empty&) { return Encoded(hp.Status()); })));
  server_->Register(msg::kMethodAttachInterface,
                    Counted(Typed<msg::InterfaceParams>([&hp](const msg::InterfaceParams& p) {
                      return Changed(hp.Attach(p.name));
                    })));
  server_->Register(msg::kMethodDetachInterface,
                    Counted(Typed<msg::InterfaceParams>([&hp](const msg::InterfaceParams& p) {
                      return Changed(hp.Detach(p.name));
                    })));
  server_->Register(msg::kMethodSetLinkState,
                    Counted(Typed<msg::SetLinkStateParams>([&hp](const msg::SetLinkStateParams& p) {
                      return Changed(hp.SetLinkState(p.name, p.state == "up"));
                    })));
  MigrationJob& mj = *migration_;
  server_->Register(msg::kMethodPrepareMigrationTarget,
                    Counted(Typed<msg::PrepareMigrationTargetParams>(
                        [&mj](const msg::PrepareMigrationTargetParams& p) {
                          return Encoded(mj.PrepareTarget(p));
                        })),
                    {.exclusive = true});
  server_->Register(msg::kMethodMigrate,
                    Counted(Typed<msg::MigrateParams>(
                        [&mj](const msg::MigrateParams& p) -> absl::StatusOr<std::string> {
                          if (auto s = mj.Start(p); !s.ok()) return s;
                          return msg::ToJson(msg::Empty{});
                        })),
                    {.exclusive = true});
  server_->Register(
      msg::kMethodGetMigration,
      Counted(Typed<msg::Empty>([&mj](const msg::Empty&) { return msg::ToJson(mj.Get()); })));
  server_->Register(
      msg::kMethodAbortMigration,
      Counted(Typed<msg::Empty>([&mj](const msg::Empty&) { return Changed(mj.Abort()); })));
}

void CommandService::BeforeDomainStop() {
  if (!server_) return;
  // A Kill or Shutdown from the socket is what ends the VM: let that call return and its
  // answer leave before the server goes.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (in_flight_ > 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  absl::SleepFor(absl::Milliseconds(100));
  server_->Stop();
  // A migration still running is cancelled (the VM stays here) and its thread ends.
  if (migration_) {
    if (auto a = migration_->Abort(); !a.ok())
      spdlog::warn("abort migration: {}", a.status().ToString());
    migration_.reset();
  }
}

void CommandService::AfterIncoming() {
  if (migration_) migration_->AfterArrival();
}

void CommandService::Stop() {
  if (server_) server_->Stop();
}

}  // namespace k6t::launcher
