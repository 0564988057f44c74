// DHCPv4 decoding, the option decoders and the server's reply logic on arbitrary bytes.
// Properties: nothing crashes; a decoded message re-encodes and decodes to the same options;
// every reply the server would send decodes and stays within its size bound, and an offer
// too large for a reply keeps a prefix of its search list.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "k6t/dhcp/dhcpv4_packet.h"
#include "k6t/dhcp/dns_name.h"
#include "k6t/dhcp/responder.h"

namespace {

using namespace k6t::dhcp;

std::vector<std::string> LongSearchList() {
  std::vector<std::string> d;
  for (char c = 'a'; c < 'g'; ++c)
    d.push_back(std::string(1, c) + std::string(56, 'x') + ".example");
  return d;
}

// An offer larger than a 576-byte reply: what gives way depends on the client's option 57.
const Dhcpv4Responder& Oversized() {
  static const Dhcpv4Responder* r = [] {
    k6t::api::DhcpV4Offer o;
    o.server_ip = "10.0.2.1";
    o.client_ip = "10.0.2.2";
    o.router = "10.0.2.1";
    o.mtu = 1500;
    o.dns_servers = {"10.96.0.10"};
    o.search_domains = LongSearchList();
    o.hostname = "vm";
    o.private_options = {{240, std::string(200, 'p')}};
    return new Dhcpv4Responder(*Dhcpv4Responder::Create(o, ""));
  }();
  return *r;
}

bool SameOptions(std::vector<Dhcpv4Option> a, std::vector<Dhcpv4Option> b) {
  // Spilled options come back in another order; each code's data must be the same.
  auto by_code = [](const Dhcpv4Option& x, const Dhcpv4Option& y) { return x.code < y.code; };
  std::sort(a.begin(), a.end(), by_code);
  std::sort(b.begin(), b.end(), by_code);
  return a == b;
}

const Dhcpv4Responder& Responder(bool filtered) {
  static const Dhcpv4Responder* any = nullptr;
  static const Dhcpv4Responder* vm = nullptr;
  if (any == nullptr) {
    k6t::api::DhcpV4Offer o;
    o.server_ip = "10.0.2.1";
    o.client_ip = "10.0.2.2";
    o.prefix_len = 24;
    o.router = "10.0.2.1";
    o.routes = {{"10.96.0.0/12", "10.0.2.1"}, {"0.0.0.0/0", "10.0.2.1"}};
    o.mtu = 1400;
    o.dns_servers = {"10.96.0.10"};
    o.search_domains = {"default.svc.cluster.local", "svc.cluster.local", "cluster.local"};
    o.hostname = "vm";
    o.tftp_server_name = "tftp";
    o.boot_file_name = "boot";
    o.ntp_servers = {"10.0.0.1"};
    o.private_options = {{240, "x"}};
    any = new Dhcpv4Responder(*Dhcpv4Responder::Create(o, ""));
    vm = new Dhcpv4Responder(*Dhcpv4Responder::Create(o, "02:11:22:33:44:55"));
  }
  return filtered ? *vm : *any;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  auto m = DecodeDhcpv4(in);
  if (m.ok()) {
    for (const auto& o : m->options) {
      if (o.code == opt4::kClasslessRoutes) (void)DecodeClasslessRoutes(o.data);
      if (o.code == opt4::kDomainSearch) (void)DecodeDomainList(o.data);
    }
    Dhcpv4Message copy = *m;
    std::erase_if(copy.options, [](const Dhcpv4Option& o) { return o.code == opt4::kOverload; });
    auto enc = EncodeDhcpv4(copy, 1500);
    if (enc.ok()) {
      auto back = DecodeDhcpv4(enc->bytes);
      if (!back.ok()) abort();
      // The encoder adds option 52 itself when it had to overload.
      std::erase_if(back->options, [](const Dhcpv4Option& o) { return o.code == opt4::kOverload; });
      if (!SameOptions(back->options, copy.options) || back->xid != copy.xid ||
          back->chaddr != copy.chaddr || (enc->overloaded != (enc->bytes[240] == opt4::kOverload)))
        abort();
    }
  }
  for (bool filtered : {false, true}) {
    const Dhcpv4Responder& r = Responder(filtered);
    Dhcpv4Outcome out = r.Respond(in);
    if (out.reply) {
      auto reply = DecodeDhcpv4(out.reply->payload);
      if (!reply.ok() || !reply->Type() || out.reply->payload.size() > r.max_message() - 28)
        abort();
    }
  }
  Dhcpv4Outcome out = Oversized().Respond(in);
  if (out.reply) {
    auto reply = DecodeDhcpv4(out.reply->payload);
    if (!reply.ok() || out.reply->payload.size() > Oversized().max_message() - 28) abort();
    if (const std::string* list = reply->Find(opt4::kDomainSearch)) {
      auto names = DecodeDomainList(*list);
      const auto all = LongSearchList();
      if (!names.ok() || names->size() > all.size() ||
          !std::equal(names->begin(), names->end(), all.begin()))
        abort();
    }
  }
  return 0;
}
