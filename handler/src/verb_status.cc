#include "verb_status.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "k6t/rpc/launcher_client.h"
#include "verb_migrate.h"

namespace k6t::handler {

namespace {

namespace msg = ::k6t::api::rpc;

constexpr char kUsage[] =
    "usage: k6t-handler status --launcher-socket PATH [--output table|json] [--timeout SECONDS]\n";

struct StatusFlags {
  std::string socket;
  std::string output = "table";
  int64_t timeout_seconds = 10;
};

// Accepts `--flag value` and `--flag=value`. A leading "status" positional is skipped so that
// the verb works whether the dispatcher passes argv from the verb or from the program name.
bool ParseFlags(int argc, char** argv, StatusFlags* flags, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i == 1 && arg == "status") continue;
    if (arg == "-h" || arg == "--help") {
      *error = "";
      return false;
    }
    std::string value;
    const size_t eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (arg == "--launcher-socket" || arg == "--output" || arg == "--timeout") {
      if (i + 1 >= argc) {
        *error = absl::StrCat(arg, " needs a value");
        return false;
      }
      value = argv[++i];
    } else {
      *error = absl::StrCat("unknown argument \"", arg, "\"");
      return false;
    }
    if (arg == "--launcher-socket") {
      flags->socket = value;
    } else if (arg == "--output") {
      if (value != "table" && value != "json") {
        *error = absl::StrCat("--output must be table or json, not \"", value, "\"");
        return false;
      }
      flags->output = value;
    } else if (arg == "--timeout") {
      if (!absl::SimpleAtoi(value, &flags->timeout_seconds) || flags->timeout_seconds < 1 ||
          flags->timeout_seconds > 3600) {
        *error = absl::StrCat("--timeout must be 1..3600 seconds, not \"", value, "\"");
        return false;
      }
    } else {
      *error = absl::StrCat("unknown flag \"", arg, "\"");
      return false;
    }
  }
  if (flags->socket.empty()) {
    *error = "--launcher-socket is required";
    return false;
  }
  return true;
}

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

std::string RenderTable(const msg::GetStatusResult& st) {
  const std::vector<std::string> header = {"NAME", "POD-IFACE", "GUEST-IFACE", "MAC",
                                           "IPS",  "LINK",      "QUEUES",      "SOURCE"};
  std::vector<std::vector<std::string>> rows = {header};
  for (const auto& i : st.interfaces) {
    std::vector<std::string> ips = i.ip_addresses;
    if (ips.empty() && !i.ip_address.empty()) ips.push_back(i.ip_address);
    rows.push_back({OrDash(i.name), OrDash(i.pod_interface_name), OrDash(i.interface_name),
                    OrDash(i.mac), OrDash(absl::StrJoin(ips, ",")), OrDash(i.link_state),
                    i.queue_count > 0 ? absl::StrCat(i.queue_count) : "-", OrDash(i.info_source)});
  }
  std::vector<size_t> width(header.size(), 0);
  for (const auto& r : rows) {
    for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  }
  std::string out = absl::StrCat("phase: ", OrDash(st.phase), "\n");
  if (!st.guest_agent.empty()) absl::StrAppend(&out, "guest agent: ", st.guest_agent, "\n");
  for (const auto& r : rows) {
    std::string line;
    for (size_t c = 0; c < r.size(); ++c) {
      line += r[c];
      if (c + 1 < r.size()) line += std::string(width[c] - r[c].size() + 2, ' ');
    }
    out += line + "\n";
  }
  if (st.interfaces.empty()) out += "(no interfaces)\n";
  return out;
}

}  // namespace

int RunStatus(int argc, char** argv) {
  StatusFlags flags;
  std::string error;
  if (!ParseFlags(argc, argv, &flags, &error)) {
    if (!error.empty()) std::fprintf(stderr, "k6t-handler status: %s\n", error.c_str());
    std::fputs(kUsage, stderr);
    return error.empty() ? 0 : 2;
  }
  const absl::Duration timeout = absl::Seconds(flags.timeout_seconds);
  rpc::CallDeadlines deadlines;
  deadlines.get_status = timeout;
  auto client = rpc::SocketLauncherClient::Connect(flags.socket, timeout, deadlines);
  if (!client.ok()) {
    std::fprintf(stderr, "k6t-handler status: %s\n",
                 std::string(client.status().message()).c_str());
    return 1;
  }
  auto status = (*client)->GetStatus();
  if (!status.ok()) {
    std::fprintf(stderr, "k6t-handler status: %s\n", status.status().ToString().c_str());
    return 1;
  }
  // A migration this launcher runs or ran (launchers without the method: none).
  auto migration = (*client)->GetMigration();
  const bool migrating = migration.ok() && migration->state != "none";
  std::string out;
  if (flags.output == "json") {
    // Pretty-printed for people; the same fields and names as the GetStatus result, and the
    // GetMigration result as "migration".
    auto j = nlohmann::json::parse(msg::ToJson(*status), nullptr, false);
    if (migrating) j["migration"] = nlohmann::json::parse(msg::ToJson(*migration), nullptr, false);
    out = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  } else {
    out = RenderTable(*status);
    if (migrating) out += absl::StrCat("migration: ", DescribeMigration(*migration), "\n");
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return 0;
}

}  // namespace k6t::handler
