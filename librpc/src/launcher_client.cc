// The typed launcher calls over the command socket (see k6t/rpc/launcher_client.h).
#include "k6t/rpc/launcher_client.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace k6t::rpc {
namespace {

namespace msg = ::k6t::api::rpc;

template <typename T>
absl::StatusOr<T> ParseResult(const absl::StatusOr<std::string>& raw, const char* method) {
  if (!raw.ok()) return raw.status();
  T out;
  if (auto s = msg::FromJson(*raw, &out); !s.ok()) {
    return absl::DataLossError(absl::StrCat(method, ": launcher sent a bad result: ", s.message()));
  }
  return out;
}

absl::StatusOr<bool> Changed(const absl::StatusOr<std::string>& raw, const char* method) {
  auto r = ParseResult<msg::ChangedResult>(raw, method);
  if (!r.ok()) return r.status();
  return r->changed;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SocketLauncherClient>> SocketLauncherClient::Connect(
    const std::string& path, absl::Duration connect_timeout, CallDeadlines deadlines,
    size_t max_frame_bytes) {
  auto client = Client::Connect(path, connect_timeout, max_frame_bytes);
  if (!client.ok()) return client.status();
  return std::make_unique<SocketLauncherClient>(*std::move(client), deadlines);
}

SocketLauncherClient::SocketLauncherClient(std::unique_ptr<Client> client, CallDeadlines deadlines)
    : client_(std::move(client)), deadlines_(deadlines) {}

absl::StatusOr<msg::PingResult> SocketLauncherClient::Ping() {
  return ParseResult<msg::PingResult>(client_->Call(msg::kMethodPing, "{}", deadlines_.ping),
                                      msg::kMethodPing);
}

absl::StatusOr<msg::SyncVmiResult> SocketLauncherClient::SyncVMI(const std::string& vmi_json) {
  if (!msg::IsValidJson(vmi_json)) {
    return absl::InvalidArgumentError("SyncVMI: the VMI is not valid JSON");
  }
  return ParseResult<msg::SyncVmiResult>(
      client_->Call(msg::kMethodSyncVmi, msg::ToJson(msg::SyncVmiParams{vmi_json}),
                    deadlines_.sync_vmi),
      msg::kMethodSyncVmi);
}

absl::Status SocketLauncherClient::Shutdown(int64_t timeout_seconds) {
  return client_
      ->Call(msg::kMethodShutdown, msg::ToJson(msg::ShutdownParams{timeout_seconds}),
             absl::Seconds(std::max<int64_t>(timeout_seconds, 0)) + deadlines_.shutdown_grace)
      .status();
}

absl::Status SocketLauncherClient::Kill() {
  return client_->Call(msg::kMethodKill, "{}", deadlines_.kill).status();
}

absl::StatusOr<msg::GetDomainResult> SocketLauncherClient::GetDomain() {
  return ParseResult<msg::GetDomainResult>(
      client_->Call(msg::kMethodGetDomain, "{}", deadlines_.get_domain), msg::kMethodGetDomain);
}

absl::StatusOr<msg::GetStatusResult> SocketLauncherClient::GetStatus() {
  return ParseResult<msg::GetStatusResult>(
      client_->Call(msg::kMethodGetStatus, "{}", deadlines_.get_status), msg::kMethodGetStatus);
}

absl::StatusOr<bool> SocketLauncherClient::AttachInterface(const std::string& name) {
  return Changed(client_->Call(msg::kMethodAttachInterface, msg::ToJson(msg::InterfaceParams{name}),
                               deadlines_.attach),
                 msg::kMethodAttachInterface);
}

absl::StatusOr<bool> SocketLauncherClient::DetachInterface(const std::string& name) {
  return Changed(client_->Call(msg::kMethodDetachInterface, msg::ToJson(msg::InterfaceParams{name}),
                               deadlines_.detach),
                 msg::kMethodDetachInterface);
}

absl::StatusOr<bool> SocketLauncherClient::SetLinkState(const std::string& name, bool up) {
  return Changed(client_->Call(msg::kMethodSetLinkState,
                               msg::ToJson(msg::SetLinkStateParams{name, up ? "up" : "down"}),
                               deadlines_.link_state),
                 msg::kMethodSetLinkState);
}

absl::StatusOr<msg::PrepareMigrationTargetResult> SocketLauncherClient::PrepareMigrationTarget(
    const msg::PrepareMigrationTargetParams& params) {
  return ParseResult<msg::PrepareMigrationTargetResult>(
      client_->Call(msg::kMethodPrepareMigrationTarget, msg::ToJson(params), deadlines_.migration),
      msg::kMethodPrepareMigrationTarget);
}

absl::Status SocketLauncherClient::Migrate(const msg::MigrateParams& params) {
  return client_->Call(msg::kMethodMigrate, msg::ToJson(params), deadlines_.migration).status();
}

absl::StatusOr<msg::GetMigrationResult> SocketLauncherClient::GetMigration() {
  return ParseResult<msg::GetMigrationResult>(
      client_->Call(msg::kMethodGetMigration, "{}", deadlines_.migration),
      msg::kMethodGetMigration);
}

absl::StatusOr<bool> SocketLauncherClient::AbortMigration() {
  return Changed(client_->Call(msg::kMethodAbortMigration, "{}", deadlines_.migration),
                 msg::kMethodAbortMigration);
}

}  // namespace k6t::rpc
