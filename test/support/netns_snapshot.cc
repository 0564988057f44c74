#include "test/support/netns_snapshot.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "test/support/shell.h"

namespace k6t::testsupport {
namespace {

nlohmann::json IpJson(const std::string& ns, const std::string& args) {
  auto r = Sh(absl::StrCat("ip -n ", ns, " -j ", args));
  auto j = nlohmann::json::parse(r.output, nullptr, false);
  return j.is_discarded() ? nlohmann::json::array() : j;
}

std::string Str(const nlohmann::json& j, const char* key) {
  if (!j.contains(key)) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

}  // namespace

std::string NetnsSnapshot(const std::string& ns) {
  std::vector<std::string> lines;
  for (const auto& l : IpJson(ns, "-d link show")) {
    std::string kind = l.contains("linkinfo") ? Str(l["linkinfo"], "info_kind") : "";
    bool up = false;
    for (const auto& f : l.value("flags", nlohmann::json::array())) up |= f == "UP";
    std::string learning;
    if (l.contains("linkinfo") && l["linkinfo"].contains("info_slave_data"))
      learning = " learning=" + Str(l["linkinfo"]["info_slave_data"], "learning");
    // A tap's own MAC is the kernel's random pick each time it is created; the guest's MAC
    // is elsewhere (the domain), so it is not part of what k6t promises.
    const std::string mac = kind == "tun" ? "(random)" : Str(l, "address");
    lines.push_back(absl::StrCat("link ", Str(l, "ifname"), " kind=", kind, " mac=", mac,
                                 " mtu=", Str(l, "mtu"), " master=", Str(l, "master"), " up=", up,
                                 learning));
  }
  for (const auto& l : IpJson(ns, "addr show")) {
    for (const auto& a : l.value("addr_info", nlohmann::json::array())) {
      std::string local = Str(a, "local");
      if (absl::StartsWith(local, "fe80:")) continue;
      lines.push_back(
          absl::StrCat("addr ", Str(l, "ifname"), " ", local, "/", Str(a, "prefixlen")));
    }
  }
  for (const char* fam : {"-4", "-6"}) {
    for (const auto& r : IpJson(ns, absl::StrCat(fam, " route show table main"))) {
      std::string dst = Str(r, "dst");
      if (absl::StartsWith(dst, "fe80:") || absl::StartsWith(dst, "ff00:")) continue;
      lines.push_back(
          absl::StrCat("route ", dst, " via=", Str(r, "gateway"), " dev=", Str(r, "dev")));
    }
  }
  std::sort(lines.begin(), lines.end());
  lines.push_back("nft:\n" + Sh(absl::StrCat("ip netns exec ", ns, " nft list ruleset")).output);
  for (const char* key :
       {"net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding", "net.ipv4.conf.all.arp_ignore",
        "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start"}) {
    lines.push_back(Sh(absl::StrCat("ip netns exec ", ns, " sysctl -n ", key)).output);
  }
  return absl::StrJoin(lines, "\n");
}

}  // namespace k6t::testsupport
