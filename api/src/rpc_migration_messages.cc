// The live-migration messages of the command protocol ⇄ JSON text (see k6t/api/rpc.h).
#include <utility>

#include "k6t/api/rpc.h"
#include "k6t/api/status_macros.h"
#include "rpc_fields.h"
#include "rpc_json.h"

namespace k6t::api::rpc {
namespace {

constexpr int64_t kMaxDowntimeMs = 60000;
constexpr int64_t kMaxBandwidthMiBs = 1 << 20;
constexpr int64_t kMaxFigure = std::numeric_limits<int64_t>::max();
// A domain XML travels in these messages; the frame limit bounds it anyway.
constexpr size_t kMaxXmlBytes = kDefaultMaxFrameBytes;

}  // namespace

absl::Status FromJson(std::string_view text, PrepareMigrationTargetParams* out) {
  auto j = ParseObject(text, kParams);
  if (!j.ok()) return j.status();
  K6T_RETURN_IF_ERROR(
      CheckKnown(*j, kParams, {"source_xml", "migration_interface", "link_refresh"}));
  PrepareMigrationTargetParams v;
  K6T_RETURN_IF_ERROR(GetString(*j, kParams, "source_xml", true, &v.source_xml, 1, kMaxXmlBytes));
  K6T_RETURN_IF_ERROR(GetBool(*j, kParams, "link_refresh", false, &v.link_refresh));
  K6T_RETURN_IF_ERROR(GetString(*j, kParams, "migration_interface", false, &v.migration_interface,
                                0, kMaxInterfaceNameBytes));
  *out = std::move(v);
  return absl::OkStatus();
}

absl::Status FromJson(std::string_view text, MigrateParams* out) {
  auto j = ParseObject(text, kParams);
  if (!j.ok()) return j.status();
  K6T_RETURN_IF_ERROR(CheckKnown(
      *j, kParams,
      {"dest_uri", "dest_xml", "migrate_uri", "disks_uri", "max_downtime_ms", "bandwidth_mib_s"}));
  MigrateParams v;
  K6T_RETURN_IF_ERROR(GetString(*j, kParams, "dest_uri", true, &v.dest_uri, 1, 4096));
  K6T_RETURN_IF_ERROR(GetString(*j, kParams, "dest_xml", false, &v.dest_xml, 0, kMaxXmlBytes));
  K6T_RETURN_IF_ERROR(GetString(*j, kParams, "migrate_uri", false, &v.migrate_uri, 0, 4096));
  K6T_RETURN_IF_ERROR(GetString(*j, kParams, "disks_uri", false, &v.disks_uri, 0, 4096));
  K6T_RETURN_IF_ERROR(
      GetInt(*j, kParams, "max_downtime_ms", false, 0, kMaxDowntimeMs, &v.max_downtime_ms));
  K6T_RETURN_IF_ERROR(
      GetInt(*j, kParams, "bandwidth_mib_s", false, 0, kMaxBandwidthMiBs, &v.bandwidth_mib_s));
  *out = std::move(v);
  return absl::OkStatus();
}

std::string ToJson(const PrepareMigrationTargetParams& v) {
  json j{{"source_xml", v.source_xml}};
  SetIfNotEmpty(j, "migration_interface", v.migration_interface);
  if (v.link_refresh) j["link_refresh"] = true;
  return DumpJson(j);
}

std::string ToJson(const MigrateParams& v) {
  json j{{"dest_uri", v.dest_uri},
         {"dest_xml", v.dest_xml},
         {"migrate_uri", v.migrate_uri},
         {"max_downtime_ms", v.max_downtime_ms},
         {"bandwidth_mib_s", v.bandwidth_mib_s}};
  SetIfNotEmpty(j, "disks_uri", v.disks_uri);
  return DumpJson(j);
}

absl::Status FromJson(std::string_view text, PrepareMigrationTargetResult* out) {
  auto j = ParseObject(text, kResult);
  if (!j.ok()) return j.status();
  PrepareMigrationTargetResult v;
  K6T_RETURN_IF_ERROR(GetString(*j, kResult, "dest_uri", true, &v.dest_uri));
  K6T_RETURN_IF_ERROR(GetString(*j, kResult, "dest_xml", false, &v.dest_xml));
  K6T_RETURN_IF_ERROR(GetString(*j, kResult, "migrate_uri", false, &v.migrate_uri));
  K6T_RETURN_IF_ERROR(GetString(*j, kResult, "disks_uri", false, &v.disks_uri));
  *out = std::move(v);
  return absl::OkStatus();
}

absl::Status FromJson(std::string_view text, GetMigrationResult* out) {
  auto j = ParseObject(text, kResult);
  if (!j.ok()) return j.status();
  GetMigrationResult v;
  K6T_RETURN_IF_ERROR(GetString(*j, kResult, "state", true, &v.state));
  K6T_RETURN_IF_ERROR(GetString(*j, kResult, "message", false, &v.message));
  for (auto [key, field] :
       {std::pair{"data_total", &v.data_total}, std::pair{"data_processed", &v.data_processed},
        std::pair{"data_remaining", &v.data_remaining}, std::pair{"iteration", &v.iteration},
        std::pair{"dirty_rate", &v.dirty_rate},
        std::pair{"expected_downtime_ms", &v.expected_downtime_ms},
        std::pair{"elapsed_ms", &v.elapsed_ms}})
    K6T_RETURN_IF_ERROR(GetInt(*j, kResult, key, false, 0, kMaxFigure, field));
  *out = std::move(v);
  return absl::OkStatus();
}

std::string ToJson(const PrepareMigrationTargetResult& v) {
  json j{{"dest_uri", v.dest_uri}, {"dest_xml", v.dest_xml}, {"migrate_uri", v.migrate_uri}};
  SetIfNotEmpty(j, "disks_uri", v.disks_uri);
  return DumpJson(j);
}

std::string ToJson(const GetMigrationResult& v) {
  return DumpJson(json{{"state", v.state},
                       {"message", v.message},
                       {"data_total", v.data_total},
                       {"data_processed", v.data_processed},
                       {"data_remaining", v.data_remaining},
                       {"iteration", v.iteration},
                       {"dirty_rate", v.dirty_rate},
                       {"expected_downtime_ms", v.expected_downtime_ms},
                       {"elapsed_ms", v.elapsed_ms}});
}

}  // namespace k6t::api::rpc
