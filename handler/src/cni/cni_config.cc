#include "cni/cni_config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cni/cni_error.h"

namespace k6t::handler::cni {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 32;
constexpr size_t kMaxListEntries = 256;
constexpr size_t kMaxNameLen = 253;

struct TooDeep {};

absl::StatusOr<json> ParseBounded(std::string_view text) {
  if (text.size() > kMaxConfigBytes)
    return Error(kDecodingFailure, absl::StrCat("network configuration is ", text.size(),
                                                " bytes, more than ", kMaxConfigBytes));
  try {
    return json::parse(text.begin(), text.end(), [](int depth, json::parse_event_t, json&) {
      if (depth > kMaxDepth) throw TooDeep{};
      return true;
    });
  } catch (const TooDeep&) {
    return Error(kDecodingFailure,
                 absl::StrCat("network configuration is nested deeper than ", kMaxDepth));
  } catch (const json::exception& e) {
    return Error(kDecodingFailure, "network configuration is not valid JSON", e.what());
  }
}

// The spec's pattern for network names and container IDs.
bool IsCniName(const std::string& s, size_t max_len = kMaxNameLen) {
  if (s.empty() || s.size() > max_len || !std::isalnum(static_cast<unsigned char>(s[0])))
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

// What the kernel accepts as a link name (dev_valid_name), and never a path.
bool IsIfName(const std::string& s) {
  if (s.empty() || s.size() > 15 || s == "." || s == "..") return false;
  return std::none_of(s.begin(), s.end(), [](char c) {
    return c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) || c == '\0';
  });
}

bool IsMac(const std::string& s) {
  static const std::regex re("^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$");
  return s.size() == 17 && std::regex_match(s, re);
}

bool IsCidr(const std::string& s, bool v6) {
  const size_t slash = s.find('/');
  if (slash == std::string::npos) return false;
  unsigned char buf[16];
  int prefix = -1;
  return inet_pton(v6 ? AF_INET6 : AF_INET, s.substr(0, slash).c_str(), buf) == 1 &&
         absl::SimpleAtoi(s.substr(slash + 1), &prefix) && prefix >= 0 && prefix <= (v6 ? 128 : 32);
}

absl::Status Decode(const std::string& path, const std::string& want) {
  return Error(kDecodingFailure, absl::StrCat(path, ": expected ", want));
}

absl::Status Invalid(const std::string& path, const std::string& why) {
  return Error(kInvalidNetworkConfig, absl::StrCat(path, ": ", why));
}

// Optional members with a type check; absent or null leaves `out` alone.
absl::Status GetString(const json& o, const char* key, const std::string& path, std::string& out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_string()) return Decode(absl::StrCat(path, key), "a string");
  out = it->get<std::string>();
  return absl::OkStatus();
}

absl::Status GetInt(const json& o, const char* key, const std::string& path,
                    std::optional<int64_t>& out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_number_integer()) return Decode(absl::StrCat(path, key), "an integer");
  out = it->get<int64_t>();
  return absl::OkStatus();
}

absl::StatusOr<const json*> GetList(const json& o, const char* key, const std::string& path) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return nullptr;
  if (!it->is_array()) return Decode(absl::StrCat(path, key), "a list");
  if (it->size() > kMaxListEntries)
    return Error(kDecodingFailure,
                 absl::StrCat(path, key, " has more than ", kMaxListEntries, " entries"));
  return &*it;
}

// Calls `each(element, element_path)` for every element of the optional list `key`, each of
// which must be an object.
template <typename F>
absl::Status ForEachObject(const json& o, const char* key, const std::string& path, F each) {
  auto list = GetList(o, key, path);
  if (!list.ok()) return list.status();
  if (!*list) return absl::OkStatus();
  for (size_t i = 0; i < (*list)->size(); ++i) {
    const json& e = (**list)[i];
    const std::string p = absl::StrCat(path, key, "[", i, "].");
    if (!e.is_object()) return Decode(p, "an object");
    if (auto st = each(e, p); !st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::StatusOr<PrevResult> ParsePrevResult(const json& j) {
  if (!j.is_object()) return Decode("prevResult", "an object");
  PrevResult r;
  r.raw = j;
  auto status =
      ForEachObject(j, "interfaces", "prevResult.", [&](const json& e, const std::string& p) {
        ResultInterface ri;
        for (auto [key, field] : {std::pair{"name", &ri.name}, std::pair{"mac", &ri.mac},
                                  std::pair{"sandbox", &ri.sandbox}})
          if (auto st = GetString(e, key, p, *field); !st.ok()) return st;
        r.interfaces.push_back(std::move(ri));
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  status = ForEachObject(j, "ips", "prevResult.", [&](const json& e, const std::string& p) {
    ResultIp ip;
    if (auto st = GetString(e, "address", p, ip.address); !st.ok()) return st;
    if (auto st = GetString(e, "gateway", p, ip.gateway); !st.ok()) return st;
    if (auto st = GetInt(e, "interface", p, ip.interface); !st.ok()) return st;
    if (ip.interface &&
        (*ip.interface < 0 || static_cast<size_t>(*ip.interface) >= r.interfaces.size()))
      return Invalid(absl::StrCat(p, "interface"),
                     absl::StrCat(*ip.interface, " is not an index of prevResult.interfaces"));
    r.ips.push_back(std::move(ip));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return r;
}

// GC's list of live attachments: "cni.dev/valid-attachments" (CNI 1.1), or the older
// "cni.dev/attachments" some runtimes still send; both are read and merged.
absl::Status ParseValidAttachments(const json& j, Config& c) {
  for (const char* key : {"cni.dev/valid-attachments", "cni.dev/attachments"}) {
    auto st = ForEachObject(j, key, "", [&](const json& e, const std::string& p) {
      Attachment a;
      if (auto st = GetString(e, "containerID", p, a.container_id); !st.ok()) return st;
      if (auto st = GetString(e, "ifname", p, a.ifname); !st.ok()) return st;
      c.valid_attachments.push_back(std::move(a));
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

int VersionPart(const std::string& v, size_t i) {
  std::vector<std::string> parts = absl::StrSplit(v, '.');
  int n = 0;
  return i < parts.size() && absl::SimpleAtoi(parts[i], &n) ? n : 0;
}

}  // namespace

const std::vector<std::string>& SupportedVersions() {
  static const std::vector<std::string> v = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};
  return v;
}

bool IsSupportedVersion(std::string_view v) {
  const auto& s = SupportedVersions();
  return std::find(s.begin(), s.end(), v) != s.end();
}

bool VersionAtLeast(std::string_view v, std::string_view min) {
  for (size_t i = 0; i < 3; ++i) {
    const int a = VersionPart(std::string(v), i), b = VersionPart(std::string(min), i);
    if (a != b) return a > b;
  }
  return true;
}

const std::vector<std::string>& CniBindings() {
  static const std::vector<std::string> b = {"bridge", "l2bridge", "masquerade"};
  return b;
}

absl::StatusOr<Env> ReadEnv(const EnvLookup& getenv) {
  auto var = [&](const char* name) {
    const char* v = getenv(name);
    return v ? std::string(v) : std::string();
  };
  Env env;
  env.command = var("CNI_COMMAND");
  env.container_id = var("CNI_CONTAINERID");
  env.netns = var("CNI_NETNS");
  env.ifname = var("CNI_IFNAME");
  env.path = var("CNI_PATH");
  static const std::vector<std::string> kCommands = {"ADD",     "DEL",    "CHECK",
                                                     "VERSION", "STATUS", "GC"};
  if (env.command.empty()) return Error(kInvalidEnvironment, "CNI_COMMAND is not set");
  if (std::find(kCommands.begin(), kCommands.end(), env.command) == kCommands.end())
    return Error(kInvalidEnvironment, absl::StrCat("CNI_COMMAND \"", env.command,
                                                   "\" is not ADD, DEL, CHECK, VERSION, STATUS "
                                                   "or GC"));
  if (env.command == "VERSION") return env;
  if (env.path.empty()) return Error(kInvalidEnvironment, "CNI_PATH is not set");
  if (env.command == "STATUS" || env.command == "GC") return env;

  if (env.container_id.empty()) return Error(kInvalidEnvironment, "CNI_CONTAINERID is not set");
  if (!IsCniName(env.container_id))
    return Error(kInvalidEnvironment, "CNI_CONTAINERID must be alphanumeric, then [a-zA-Z0-9_.-]",
                 env.container_id);
  if (env.ifname.empty()) return Error(kInvalidEnvironment, "CNI_IFNAME is not set");
  if (!IsIfName(env.ifname))
    return Error(kInvalidEnvironment,
                 "CNI_IFNAME is not a link name (1-15 characters, no '/', ':' or space)",
                 env.ifname);
  if (env.command != "DEL" && env.netns.empty())
    return Error(kInvalidEnvironment, "CNI_NETNS is not set");
  if (!env.netns.empty() && env.netns[0] != '/')
    return Error(kInvalidEnvironment, "CNI_NETNS is not an absolute path", env.netns);
  const std::string args = var("CNI_ARGS");
  for (const std::string& kv :
       std::vector<std::string>(absl::StrSplit(args, ';', absl::SkipEmpty()))) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return Error(kInvalidEnvironment, "CNI_ARGS is not a list of KEY=VALUE separated by ';'", kv);
    env.args[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

std::string PeekVersion(std::string_view text) {
  auto j = ParseBounded(text);
  if (!j.ok() || !j->is_object()) return "";
  auto it = j->find("cniVersion");
  return it != j->end() && it->is_string() ? it->get<std::string>() : "";
}

absl::StatusOr<Config> ParseConfig(std::string_view text) {
  auto parsed = ParseBounded(text);
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  if (!j.is_object()) return Decode("network configuration", "an object");
  Config c;
  for (auto [key, field] :
       {std::pair{"cniVersion", &c.cni_version}, std::pair{"name", &c.name},
        std::pair{"type", &c.type}, std::pair{"binding", &c.binding},
        std::pair{"vmInterface", &c.vm_interface}, std::pair{"podInterface", &c.pod_interface},
        std::pair{"macAddress", &c.mac_address}, std::pair{"vmNetworkCIDR", &c.vm_network_cidr},
        std::pair{"vmIPv6NetworkCIDR", &c.vm_ipv6_network_cidr},
        std::pair{"stateDir", &c.state_dir}})
    if (auto st = GetString(j, key, "", *field); !st.ok()) return st;
  if (c.cni_version.empty()) return Invalid("cniVersion", "is required");
  if (!IsSupportedVersion(c.cni_version))
    return Error(kIncompatibleVersion,
                 absl::StrCat("cniVersion ", c.cni_version, " is not supported"),
                 "supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0");
  if (!IsCniName(c.name)) return Invalid("name", "must be alphanumeric, then [a-zA-Z0-9_.-]");
  if (c.binding.empty()) return Invalid("binding", "is required (bridge, l2bridge or masquerade)");
  const auto& bindings = CniBindings();
  if (std::find(bindings.begin(), bindings.end(), c.binding) == bindings.end())
    return Invalid("binding",
                   absl::StrCat("\"", c.binding, "\" is not bridge, l2bridge or masquerade"));
  if (!c.pod_interface.empty() && !IsIfName(c.pod_interface))
    return Invalid("podInterface", absl::StrCat("\"", c.pod_interface, "\" is not a link name"));
  // Multus hands a NAD selection's cni-args to the plugin as args.cni (CNI conventions).
  if (auto args = j.find("args"); c.vm_interface.empty() && args != j.end() && args->is_object()) {
    auto cni = args->find("cni");
    if (cni != args->end() && cni->is_object())
      if (auto st = GetString(*cni, "logicNetworkName", "args.cni.", c.vm_interface); !st.ok())
        return st;
  }
  if (c.vm_interface.empty()) c.vm_interface = c.name;
  if (!IsCniName(c.vm_interface, 63))
    return Invalid("vmInterface", absl::StrCat("\"", c.vm_interface,
                                               "\" must be at most 63 of [a-zA-Z0-9_.-], "
                                               "starting alphanumerically (set it when name "
                                               "is longer)"));
  if (!c.mac_address.empty() && !IsMac(c.mac_address))
    return Invalid("macAddress", absl::StrCat("\"", c.mac_address, "\" is not a MAC address"));
  if (!c.vm_network_cidr.empty() && !IsCidr(c.vm_network_cidr, false))
    return Invalid("vmNetworkCIDR", absl::StrCat("\"", c.vm_network_cidr, "\" is not IPv4 CIDR"));
  if (!c.vm_ipv6_network_cidr.empty() && !IsCidr(c.vm_ipv6_network_cidr, true))
    return Invalid("vmIPv6NetworkCIDR",
                   absl::StrCat("\"", c.vm_ipv6_network_cidr, "\" is not IPv6 CIDR"));
  if (c.state_dir.empty() || c.state_dir[0] != '/' ||
      c.state_dir.find("/../") != std::string::npos || c.state_dir.ends_with("/.."))
    return Invalid("stateDir", "must be an absolute path without \"..\"");
  if (auto st = GetInt(j, "mtu", "", c.mtu); !st.ok()) return st;
  if (c.mtu && (*c.mtu < 68 || *c.mtu > 65535))
    return Invalid("mtu", absl::StrCat(*c.mtu, " is not between 68 and 65535"));
  for (auto [key, field] :
       {std::pair{"tapOwner", &c.tap_owner}, std::pair{"tapGroup", &c.tap_group}}) {
    std::optional<int64_t> v;
    if (auto st = GetInt(j, key, "", v); !st.ok()) return st;
    if (v && (*v < 0 || *v >= 0xffffffffll))
      return Invalid(key, absl::StrCat(*v, " is not a uid/gid"));
    if (v) *field = static_cast<uint32_t>(*v);
  }
  if (auto it = j.find("primary"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean()) return Decode("primary", "a boolean");
    c.primary = it->get<bool>();
  }
  if (auto it = j.find("prevResult"); it != j.end() && !it->is_null()) {
    auto r = ParsePrevResult(*it);
    if (!r.ok()) return r.status();
    c.prev_result = *std::move(r);
  }
  if (auto st = ParseValidAttachments(j, c); !st.ok()) return st;
  return c;
}

const std::string& PodLink(const Config& config, const Env& env) {
  return config.pod_interface.empty() ? env.ifname : config.pod_interface;
}

const ResultInterface* SandboxInterface(const PrevResult& r, const std::string& ifname) {
  for (const auto& i : r.interfaces)
    if (i.name == ifname && !i.sandbox.empty()) return &i;
  return nullptr;
}

}  // namespace k6t::handler::cni
