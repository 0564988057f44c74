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
#include "cni/cni_sandbox.h"
#include "k6t/binding/cache.h"
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

// Leaves no empty directories behind: the attachment's, its container's, its network's.
void PruneDirs(const Config& c, const Env& env, bool remove_state) {
  std::error_code ec;
  const fs::path dir = AttachmentDir(c, env);
  if (remove_state) {
    fs::remove_all(dir, ec);
  } else {
    fs::remove(dir / "interfaces", ec);
    fs::remove(dir, ec);
  }
  fs::remove(dir.parent_path(), ec);                // only when empty
  fs::remove(dir.parent_path().parent_path(), ec);  // only when empty
}

struct Prepared {
  const ResultInterface* pod_link;  // prevResult's entry; may be null with podInterface
  binding::PodNetworkRequest req;
};

// What ADD and CHECK start from: the pod link in prevResult, the sandbox, the request.
absl::StatusOr<Prepared> Prepare(const Config& c, const Env& env, int missing_netns_code,
                                 const RequestHook& hook) {
  auto pod_link = ChainedInterface(c, env);
  if (!pod_link.ok()) return pod_link.status();
  if (!NetnsExists(env.netns))
    return Error(missing_netns_code,
                 absl::StrCat("CNI_NETNS ", env.netns, ": ", std::strerror(errno)));
  auto req = BuildRequest(c, env);
  if (!req.ok()) return req.status();
  if (hook) hook(*req);
  return Prepared{*pod_link, *std::move(req)};
}

// What the result adds to the chain's: the pod link k6t plumbed when prevResult does not list
// it (podInterface with nothing chained before), with the MAC the kernel gives it. k6t's own
// links (bridge, tap) are not listed: a runtime takes every sandbox interface of a result for
// the attachment's own (podman re-ADDs a network on one of them at `network reload`; Multus
// names one in network-status, which KubeVirt reads to find the pod interface).
absl::StatusOr<std::vector<ResultInterface>> AddedInterfaces(const Prepared& p,
                                                             const std::string& pod_link,
                                                             const std::string& sandbox) {
  if (p.pod_link) return std::vector<ResultInterface>{};
  auto macs = SandboxMacs(p.req, {pod_link});
  if (!macs.ok()) return macs.status();
  return std::vector<ResultInterface>{{pod_link, (*macs)[0], sandbox}};
}

absl::StatusOr<std::string> Add(const Config& c, const Env& env, const RequestHook& hook) {
  auto p = Prepare(c, env, kInvalidEnvironment, hook);
  if (!p.ok()) return p.status();
  auto present = PodLinkPresent(p->req, DerivedNames(c, env));
  if (!present.ok())
    return Error(kIoFailure, absl::StrCat("cannot read the sandbox ", env.netns),
                 std::string(present.status().message()));
  if (!*present)
    return Error(
        kTryAgainLater,
        absl::StrCat("pod interface ", PodLink(c, env), " is not there yet in ", env.netns),
        "the plugin that creates it has not run or not finished; retry later");
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
  auto added = AddedInterfaces(*p, PodLink(c, env), env.netns);
  if (!added.ok())
    return Error(kPlumbingFailed,
                 absl::StrCat("k6t ", c.binding, " plumbing on ", PodLink(c, env),
                              " is in place but its links cannot be read back for the result"),
                 std::string(added.status().message()));
  return EncodeAddResult(c.cni_version, c.prev_result ? &*c.prev_result : nullptr, *added);
}

absl::Status Del(const Config& c, const Env& env, const RequestHook& hook) {
  // The spec: DEL succeeds when the sandbox is gone (its links went with it).
  if (!NetnsExists(env.netns)) {
    PruneDirs(c, env, /*remove_state=*/true);
    return absl::OkStatus();
  }
  auto req = BuildRequest(c, env);
  if (!req.ok()) return absl::OkStatus();  // a name k6t cannot plumb was never plumbed
  if (hook) hook(*req);
  auto cached = binding::ReadCachedInterfaces(req->state_dir);
  absl::Status st;
  if (cached.ok() && cached->empty()) {
    st = RemoveDerivedLinks(*req, DerivedNames(c, env));
  } else {
    st = binding::TeardownPodNetwork(*req).status();
  }
  if (!st.ok())
    return Error(kTeardownFailed, absl::StrCat("k6t teardown on ", PodLink(c, env), " failed"),
                 std::string(st.message()));
  PruneDirs(c, env, /*remove_state=*/true);
  return absl::OkStatus();
}

absl::Status Check(const Config& c, const Env& env, const RequestHook& hook) {
  if (auto st = NeedsVersion(c, env, "0.4.0"); !st.ok()) return st;
  auto p = Prepare(c, env, kUnknownContainer, hook);
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

// Removes the state of this network's attachments the runtime no longer knows. Their links went
// with their sandboxes; a live sandbox's state is never in question because the runtime lists
// it. Another network's attachments (its own directory) are its own GC's business: the runtime
// lists only this network's attachments.
absl::Status Gc(const Config& c, const Env& env) {
  if (auto st = NeedsVersion(c, env, "1.1.0"); !st.ok()) return st;
  std::set<std::pair<std::string, std::string>> valid;
  for (const auto& a : c.valid_attachments) valid.insert({a.container_id, a.ifname});
  std::error_code ec;
  const fs::path network_dir = NetworkStateDir(c);
  fs::directory_iterator containers(network_dir, ec);
  if (ec) return absl::OkStatus();  // nothing was ever set up on this network
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
  fs::remove(network_dir, ec);  // only when empty
  spdlog::info("gc network={} state_dir={} removed={} valid={}", c.name, network_dir.string(),
               removed, valid.size());
  return absl::OkStatus();
}

}  // namespace

Outcome RunPlugin(const EnvLookup& getenv, std::string_view stdin_text, const RequestHook& hook) {
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
    auto r = Add(*config, *env, hook);
    if (!r.ok()) return fail(r.status());
    return {0, *r};
  }
  absl::Status st;
  if (env->command == "DEL") st = Del(*config, *env, hook);
  if (env->command == "CHECK") st = Check(*config, *env, hook);
  if (env->command == "STATUS") st = Status(*config, *env);
  if (env->command == "GC") st = Gc(*config, *env);
  if (!st.ok()) return fail(st);
  return {0, ""};
}

}  // namespace k6t::handler::cni
