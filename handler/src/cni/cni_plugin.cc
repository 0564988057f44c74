#include "cni/cni_plugin.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cni/cni_error.h"
#include "cni/cni_request.h"
#include "cni/cni_result.h"
#include "k6t/binding/pod_network.h"
#include "spdlog/spdlog.h"

namespace k6t::handler::cni {
namespace {

namespace fs = std::filesystem;

absl::Status NeedsVersion(const Config& c, const Env& env, const char* min) {
  if (VersionAtLeast(c.cni_version, min)) return absl::OkStatus();
  return Error(kIncompatibleVersion, absl::StrCat(env.command, " needs cniVersion ", min,
                                                  " or later, the config says ", c.cni_version));
}

// The pod link the previous plugin made, which k6t plumbs; nullptr when the config names the
// link itself (podInterface) and prevResult does not list it.
absl::StatusOr<const ResultInterface*> ChainedInterface(const Config& c, const Env& env) {
  if (!c.pod_interface.empty())
    return c.prev_result ? SandboxInterface(*c.prev_result, c.pod_interface) : nullptr;
  if (!c.prev_result)
    return Error(kInvalidNetworkConfig,
                 "no prevResult: k6t-cni runs chained after the plugin that creates CNI_IFNAME "
                 "(bridge, macvlan, ...)");
  const ResultInterface* i = SandboxInterface(*c.prev_result, env.ifname);
  if (!i) {
    std::vector<std::string> names;
    for (const auto& r : c.prev_result->interfaces)
      names.push_back(r.sandbox.empty() ? r.name : r.name + " (sandbox)");
    return Error(kInvalidNetworkConfig,
                 absl::StrCat("prevResult has no interface ", env.ifname, " inside a sandbox"),
                 absl::StrCat("prevResult interfaces: [", absl::StrJoin(names, ", "), "]"));
  }
  return i;
}

bool NetnsExists(const std::string& path) {
  return !path.empty() && ::access(path.c_str(), F_OK) == 0;
}

// Leaves no empty directories behind: the attachment's, then its container's.
void PruneDirs(const Config& c, const Env& env, bool remove_state) {
  std::error_code ec;
  const fs::path dir = AttachmentDir(c, env);
  if (remove_state) {
    fs::remove_all(dir, ec);
  } else {
    fs::remove(dir / "interfaces", ec);
    fs::remove(dir, ec);
  }
  fs::remove(dir.parent_path(), ec);  // only when empty
}

struct Prepared {
  const ResultInterface* pod_link;  // prevResult's entry; may be null with podInterface
  binding::PodNetworkRequest req;
};

// What ADD and CHECK start from: the pod link in prevResult, the sandbox, the request.
absl::StatusOr<Prepared> Prepare(const Config& c, const Env& env, int missing_netns_code) {
  auto pod_link = ChainedInterface(c, env);
  if (!pod_link.ok()) return pod_link.status();
  if (!NetnsExists(env.netns))
    return Error(missing_netns_code,
                 absl::StrCat("CNI_NETNS ", env.netns, ": ", std::strerror(errno)));
  auto req = BuildRequest(c, env);
  if (!req.ok()) return req.status();
  return Prepared{*pod_link, *std::move(req)};
}

absl::StatusOr<std::string> Add(const Config& c, const Env& env) {
  auto p = Prepare(c, env, kInvalidEnvironment);
  if (!p.ok()) return p.status();
  auto r = binding::SetupPodNetwork(p->req);
  if (!r.ok()) {
    PruneDirs(c, env, /*remove_state=*/false);
    if (!binding::RollbackFailures(r.status()).empty())
      return Error(kPlumbingNotClean,
                   absl::StrCat("k6t ", c.binding, " plumbing on ", PodLink(c, env),
                                " failed and could not be rolled back completely; DEL removes "
                                "what is left"),
                   std::string(r.status().message()));
    return Error(kPlumbingFailed,
                 absl::StrCat("k6t ", c.binding, " plumbing on ", PodLink(c, env),
                              " failed; the namespace is as before"),
                 std::string(r.status().message()));
  }
  std::vector<ResultInterface> added;
  for (const auto& plan : r->plans) {
    for (const auto& op : plan.ops) {
      if (auto* b = std::get_if<binding::CreateBridge>(&op))
        added.push_back({b->name, b->mac, env.netns});
      if (auto* t = std::get_if<binding::CreateTap>(&op)) added.push_back({t->name, "", env.netns});
    }
  }
  return EncodeAddResult(c.cni_version, c.prev_result ? &*c.prev_result : nullptr, added);
}

absl::Status Del(const Config& c, const Env& env) {
  // The spec: DEL succeeds when the sandbox is gone (its links went with it).
  if (!NetnsExists(env.netns)) {
    PruneDirs(c, env, /*remove_state=*/true);
    return absl::OkStatus();
  }
  auto req = BuildRequest(c, env);
  if (!req.ok()) return absl::OkStatus();  // a name k6t cannot plumb was never plumbed
  auto t = binding::TeardownPodNetwork(*req);
  if (!t.ok())
    return Error(kTeardownFailed, absl::StrCat("k6t teardown on ", PodLink(c, env), " failed"),
                 std::string(t.status().message()));
  PruneDirs(c, env, /*remove_state=*/true);
  return absl::OkStatus();
}

absl::Status Check(const Config& c, const Env& env) {
  if (auto st = NeedsVersion(c, env, "0.4.0"); !st.ok()) return st;
  auto p = Prepare(c, env, kUnknownContainer);
  if (!p.ok()) return p.status();
  auto checked = binding::CheckPodNetwork(p->req);
  if (!checked.ok() || !checked->drift.empty())
    return Error(kDrift,
                 absl::StrCat("k6t plumbing on ", PodLink(c, env), " differs from its plan"),
                 checked.ok() ? binding::DescribeDrift(checked->drift)
                              : std::string(checked.status().message()));
  const std::string mac = p->pod_link ? absl::AsciiStrToLower(p->pod_link->mac) : "";
  for (const auto& plan : checked->plans)
    if (!mac.empty() && !plan.original_mac.empty() && mac != plan.original_mac)
      return Error(kDrift,
                   absl::StrCat("k6t plumbing on ", PodLink(c, env), " differs from its plan"),
                   absl::StrCat("prevResult gives ", PodLink(c, env), " MAC ", mac,
                                ", k6t plumbed it with ", plan.original_mac));
  return absl::OkStatus();
}

absl::Status Status(const Config& c, const Env& env) {
  if (auto st = NeedsVersion(c, env, "1.1.0"); !st.ok()) return st;
  std::error_code ec;
  fs::create_directories(c.state_dir, ec);
  if (ec || ::access(c.state_dir.c_str(), W_OK) != 0)
    return Error(kPluginNotAvailable, absl::StrCat("state dir ", c.state_dir, " is not writable: ",
                                                   ec ? ec.message() : std::strerror(errno)));
  if (::access("/dev/net/tun", R_OK | W_OK) != 0)
    return Error(kPluginNotAvailable, absl::StrCat("/dev/net/tun: ", std::strerror(errno)));
  return absl::OkStatus();
}

// Removes the state of attachments the runtime no longer knows. Their links went with their
// sandboxes; a live sandbox's state is never in question because the runtime lists it.
absl::Status Gc(const Config& c, const Env& env) {
  if (auto st = NeedsVersion(c, env, "1.1.0"); !st.ok()) return st;
  std::set<std::pair<std::string, std::string>> valid;
  for (const auto& a : c.valid_attachments) valid.insert({a.container_id, a.ifname});
  std::error_code ec;
  fs::directory_iterator containers(c.state_dir, ec);
  if (ec) return absl::OkStatus();  // nothing was ever set up
  int removed = 0;
  for (const auto& cdir : containers) {
    if (!cdir.is_directory(ec)) continue;
    const std::string cid = cdir.path().filename();
    for (const auto& idir : fs::directory_iterator(cdir.path(), ec)) {
      if (!fs::is_directory(idir.path() / "interfaces", ec)) continue;
      if (valid.count({cid, idir.path().filename()})) continue;
      fs::remove_all(idir.path(), ec);
      ++removed;
    }
    fs::remove(cdir.path(), ec);  // only when empty
  }
  spdlog::info("gc state_dir={} removed={} valid={}", c.state_dir, removed, valid.size());
  return absl::OkStatus();
}

}  // namespace

Outcome RunPlugin(const EnvLookup& getenv, std::string_view stdin_text) {
  std::string version = PeekVersion(stdin_text);
  if (!IsSupportedVersion(version)) version = SupportedVersions().back();
  auto fail = [&](const absl::Status& st) {
    spdlog::error("{}{}{}", std::string(st.message()), DetailsOf(st).empty() ? "" : ": ",
                  DetailsOf(st));
    return Outcome{1, EncodeError(version, st)};
  };
  auto env = ReadEnv(getenv);
  if (!env.ok()) return fail(env.status());
  if (env->command == "VERSION") return {0, EncodeVersion(PeekVersion(stdin_text))};
  auto config = ParseConfig(stdin_text);
  if (!config.ok()) return fail(config.status());
  spdlog::debug("{} container={} ifname={} netns={} binding={}", env->command, env->container_id,
                env->ifname, env->netns, config->binding);
  if (env->command == "ADD") {
    auto r = Add(*config, *env);
    if (!r.ok()) return fail(r.status());
    return {0, *r};
  }
  absl::Status st;
  if (env->command == "DEL") st = Del(*config, *env);
  if (env->command == "CHECK") st = Check(*config, *env);
  if (env->command == "STATUS") st = Status(*config, *env);
  if (env->command == "GC") st = Gc(*config, *env);
  if (!st.ok()) return fail(st);
  return {0, ""};
}

}  // namespace k6t::handler::cni
