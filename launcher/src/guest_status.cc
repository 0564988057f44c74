#include "guest_status.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "k6t/api/net.h"

namespace k6t::launcher {
namespace {

// The guest's addresses without their prefix lengths; link-local ones (fe80::/10,
// 169.254/16) and text that is no address (the guest's answer is outside input) left out.
std::vector<std::string> GuestAddresses(const GuestInterface& g) {
  std::vector<std::string> out;
  for (const std::string& a : g.addresses) {
    const std::string ip = WithoutPrefix(a);
    if (auto parsed = api::IpAddress::Parse(ip); parsed.ok() && !parsed->IsLinkLocal())
      out.push_back(ip);
  }
  return out;
}

}  // namespace

std::string WithoutPrefix(const std::string& cidr) { return cidr.substr(0, cidr.find('/')); }

void MergeGuestInterfaces(const std::vector<GuestInterface>& guest,
                          const std::map<std::string, std::string>& binding_of,
                          std::vector<api::rpc::StatusInterface>& status) {
  for (const GuestInterface& g : guest) {
    if (g.name == "lo" || g.mac.empty() || g.mac == "00:00:00:00:00:00") continue;
    api::rpc::StatusInterface* match = nullptr;
    for (auto& s : status)
      if (absl::AsciiStrToLower(s.mac) == g.mac) match = &s;
    if (!match) {
      api::rpc::StatusInterface s;
      s.mac = g.mac;
      s.interface_name = g.name;
      s.ip_addresses = GuestAddresses(g);
      if (!s.ip_addresses.empty()) s.ip_address = s.ip_addresses.front();
      s.info_source = "guest-agent";
      status.push_back(std::move(s));
      continue;
    }
    match->interface_name = g.name;
    const auto binding = binding_of.find(match->name);
    const bool pod_addresses = binding != binding_of.end() &&
                               (binding->second == "masquerade" || binding->second == "passt");
    if (std::vector<std::string> ips = GuestAddresses(g); !pod_addresses && !ips.empty()) {
      match->ip_addresses = std::move(ips);
      match->ip_address = match->ip_addresses.front();
    }
    // KubeVirt's order of sources: domain, guest-agent, multus-status.
    const bool domain = absl::StrContains(match->info_source, "domain");
    const bool multus = absl::StrContains(match->info_source, "multus-status");
    match->info_source =
        std::string(domain ? "domain, " : "") + "guest-agent" + (multus ? ", multus-status" : "");
  }
}

}  // namespace k6t::launcher
