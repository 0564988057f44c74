#include "k6t/dhcp/dhcpv4_options.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "bytes.h"
#include "k6t/api/net.h"
#include "k6t/dhcp/dns_name.h"
#include "offer_fields.h"

namespace k6t::dhcp {
namespace {

using internal::InField;

constexpr Ipv4 kOnLink{};

absl::StatusOr<std::string> Ipv4List(const std::vector<std::string>& addresses, const char* field) {
  std::string out;
  for (const auto& text : addresses) {
    auto a = ParseIpv4(text);
    if (!a.ok()) return InField(a.status(), field);
    out += Ipv4Bytes(*a);
  }
  return out;
}

absl::StatusOr<ClasslessRoute> ParseRoute(const api::Route& route) {
  auto dest = api::IpPrefix::Parse(route.destination);
  if (!dest.ok()) return dest.status();
  if (!dest->address().is_v4())
    return absl::InvalidArgumentError(
        absl::StrCat("\"", dest->ToString(), "\" is not an IPv4 destination"));
  Ipv4 net;
  std::copy(dest->address().bytes().begin(), dest->address().bytes().end(), net.begin());
  ClasslessRoute r{net, dest->length(), kOnLink};
  if (!route.gateway.empty()) {
    auto gw = ParseIpv4(route.gateway);
    if (!gw.ok()) return gw.status();
    r.router = *gw;
  }
  return r;
}

// Options 3 and 121 (RFC 3442). A client that gets option 121 ignores option 3, so the
// default route, when there is one, is the list's last entry (as KubeVirt orders it, for
// clients that install routes in order); with none, the guest gets no default route here.
absl::Status AppendRouting(const api::DhcpV4Offer& o, std::vector<Dhcpv4Option>& opts) {
  std::optional<Ipv4> router;
  if (!o.router.empty()) {
    auto a = ParseIpv4(o.router);
    if (!a.ok()) return InField(a.status(), "router");
    router = *a;
  }
  std::vector<ClasslessRoute> routes;
  std::optional<ClasslessRoute> default_route;
  for (const api::Route& rt : o.routes) {
    if (rt.destination.find(':') != std::string::npos) continue;  // IPv6: the RA's business
    auto r = ParseRoute(rt);
    if (!r.ok()) return InField(r.status(), "routes");
    if (r->prefix_len != 0) {
      routes.push_back(*r);
    } else if (!default_route) {
      default_route = *r;
    }
  }
  if (!default_route && router) default_route = ClasslessRoute{{}, 0, *router};
  // Option 3 for clients without option 121: the default gateway, if it has one.
  if (!router && default_route && default_route->router != kOnLink) router = default_route->router;
  if (router) opts.push_back({opt4::kRouter, Ipv4Bytes(*router)});
  // Option 121 when there is more than option 3 can say: other routes, or an on-link default.
  if (routes.empty() && !(default_route && default_route->router == kOnLink))
    return absl::OkStatus();
  if (default_route) routes.push_back(*default_route);
  auto enc = EncodeClasslessRoutes(routes);
  if (!enc.ok()) return InField(enc.status(), "routes");
  opts.push_back({opt4::kClasslessRoutes, *enc});
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Dhcpv4Options> Dhcpv4Options::FromOffer(const api::DhcpV4Offer& o) {
  Dhcpv4Options r;
  auto& opts = r.essential_;
  if (o.prefix_len < 1 || o.prefix_len > 32)
    return absl::InvalidArgumentError(absl::StrCat("prefix_len ", o.prefix_len, " not in 1..32"));
  opts.push_back({opt4::kSubnetMask, Ipv4Bytes(PrefixToMask(o.prefix_len))});
  if (absl::Status st = AppendRouting(o, opts); !st.ok()) return st;
  if (!o.dns_servers.empty()) {
    auto dns = Ipv4List(o.dns_servers, "dns_servers");
    if (!dns.ok()) return dns.status();
    opts.push_back({opt4::kDns, *dns});
  }
  if (o.mtu != 0) {
    if (o.mtu < 68 || o.mtu > 65535)
      return absl::InvalidArgumentError(absl::StrCat("mtu ", o.mtu, " not in 68..65535"));
    opts.push_back({opt4::kMtu, internal::BeU16(static_cast<uint16_t>(o.mtu))});
  }
  if (!o.hostname.empty()) {
    if (absl::Status st = ValidateDomainName(o.hostname); !st.ok() || o.hostname.size() > 63)
      return absl::InvalidArgumentError(
          absl::StrCat("hostname \"", o.hostname, "\" is not a valid host name"));
    r.hostname_ = o.hostname;
  }

  // The search list comes from the pod's resolv.conf: what cannot be offered is left out
  // (and reported), never fatal.
  SearchList search = BuildSearchList(o.search_domains, kMaxSearchListBytes);
  r.search_ = std::move(search.names);
  r.search_wire_ = std::move(search.wire);
  r.skipped_ = std::move(search.skipped);

  if (!o.ntp_servers.empty()) {
    auto ntp = Ipv4List(o.ntp_servers, "ntp_servers");
    if (!ntp.ok()) return ntp.status();
    r.ntp_ = *ntp;
  }
  r.tftp_ = o.tftp_server_name;
  r.boot_file_ = o.boot_file_name;
  for (const auto& [code, value] : o.private_options) {
    if (code < 224 || code > 254)
      return absl::InvalidArgumentError(
          absl::StrCat("private_options: code ", code, " not in 224..254"));
    if (value.size() > 255)
      return absl::InvalidArgumentError(
          absl::StrCat("private_options: option ", code, " longer than 255 bytes"));
    r.private_.push_back({static_cast<uint8_t>(code), value});
  }

  // The order of Dhcpv4Options' header, for what this offer has.
  for (size_t i = r.search_.size(); i > 1; --i)
    r.drops_.push_back({Step::kSearchTail, "search domain " + r.search_[i - 1]});
  for (size_t i = r.private_.size(); i > 0; --i)
    r.drops_.push_back({Step::kPrivate, absl::StrCat("option ", r.private_[i - 1].code)});
  if (!r.ntp_.empty()) r.drops_.push_back({Step::kNtp, "NTP servers (42)"});
  if (!r.search_.empty()) {
    r.drops_.push_back({Step::kDomainName, "domain name (15)"});
    r.drops_.push_back({Step::kFirstSearch, "search domain " + r.search_[0]});
  }
  if (!r.boot_file_.empty()) r.drops_.push_back({Step::kBootFile, "boot file name (67)"});
  if (!r.tftp_.empty()) r.drops_.push_back({Step::kTftp, "TFTP server name (66)"});
  if (!r.hostname_.empty()) r.drops_.push_back({Step::kHostname, "host name (12)"});

  // The essentials must fit the smallest reply every client accepts, next to the largest
  // set of the reply's own options (an OFFER/ACK: type, server id, three lease times).
  Dhcpv4Message probe;
  probe.op = kBootReply;
  probe.options = {{opt4::kMessageType, std::string(1, static_cast<char>(Dhcpv4Type::kOffer))},
                   {opt4::kServerId, Ipv4Bytes({})},
                   {opt4::kLeaseTime, internal::BeU32(0)},
                   {opt4::kRenewalTime, internal::BeU32(0)},
                   {opt4::kRebindingTime, internal::BeU32(0)}};
  if (auto fit = r.Fit(probe, kDhcpv4MinMaxMessage - 28, r.drops_.size()); !fit.ok())
    return absl::InvalidArgumentError(
        absl::StrCat("the subnet mask, router, routes, DNS servers and MTU alone exceed a ",
                     kDhcpv4MinMaxMessage, "-byte DHCPv4 reply: ", fit.status().message()));
  return r;
}

std::vector<Dhcpv4Option> Dhcpv4Options::Build(size_t dropped) const {
  size_t search = search_.size();
  size_t privates = private_.size();
  bool ntp = !ntp_.empty(), domain_name = !search_.empty(), boot_file = !boot_file_.empty(),
       tftp = !tftp_.empty(), hostname = !hostname_.empty();
  for (size_t i = 0; i < dropped && i < drops_.size(); ++i) {
    switch (drops_[i].step) {
      case Step::kSearchTail:
        --search;
        break;
      case Step::kPrivate:
        --privates;
        break;
      case Step::kNtp:
        ntp = false;
        break;
      case Step::kDomainName:
        domain_name = false;
        break;
      case Step::kFirstSearch:
        search = 0;
        break;
      case Step::kBootFile:
        boot_file = false;
        break;
      case Step::kTftp:
        tftp = false;
        break;
      case Step::kHostname:
        hostname = false;
        break;
    }
  }
  std::vector<Dhcpv4Option> opts = essential_;
  if (hostname) opts.push_back({opt4::kHostname, hostname_});
  if (domain_name && search > 0) {
    // The longest domain offered (KubeVirt's choice, for Windows, which reads 15, not 119).
    const auto longest = std::max_element(
        search_.begin(), search_.begin() + search,
        [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
    opts.push_back({opt4::kDomainName, *longest});
  }
  if (search > 0) {
    std::string list;
    for (size_t i = 0; i < search; ++i) list += search_wire_[i];
    opts.push_back({opt4::kDomainSearch, std::move(list)});
  }
  if (ntp) opts.push_back({opt4::kNtp, ntp_});
  if (tftp) opts.push_back({opt4::kTftpServer, tftp_});
  if (boot_file) opts.push_back({opt4::kBootFile, boot_file_});
  opts.insert(opts.end(), private_.begin(), private_.begin() + privates);
  return opts;
}

absl::StatusOr<Dhcpv4Fit> Dhcpv4Options::Fit(const Dhcpv4Message& reply, size_t max_payload,
                                             size_t at_least) const {
  absl::Status last;
  for (size_t k = std::min(at_least, drops_.size()); k <= drops_.size(); ++k) {
    Dhcpv4Fit fit;
    fit.message = reply;
    for (auto& opt : Build(k)) fit.message.options.push_back(std::move(opt));
    auto enc = EncodeDhcpv4(fit.message, max_payload);
    if (!enc.ok()) {
      if (!absl::IsResourceExhausted(enc.status())) return enc.status();
      last = enc.status();
      continue;
    }
    fit.bytes = std::move(enc->bytes);
    for (size_t i = 0; i < k; ++i) fit.left_out.push_back(drops_[i].what);
    return fit;
  }
  return last;
}

}  // namespace k6t::dhcp
