// DHCPv6 decoding, the option decoders and the server's reply logic on arbitrary bytes.
// Properties: nothing crashes; decode then encode gives back the input; replies decode.
#include <cstdint>
#include <cstdlib>

#include "k6t/dhcp/dhcpv6_packet.h"
#include "k6t/dhcp/dns_name.h"
#include "k6t/dhcp/responder.h"

namespace {

using namespace k6t::dhcp;

const Dhcpv6Responder& Responder(bool filtered) {
  static const Dhcpv6Responder* any = nullptr;
  static const Dhcpv6Responder* vm = nullptr;
  if (any == nullptr) {
    k6t::api::DhcpV6Offer o;
    o.client_ip = "fd10:0:2::2";
    o.prefix_len = 120;
    o.dns_servers = {"fd00::a"};
    o.search_domains = {"svc.cluster.local", "cluster.local"};
    const Mac bridge{2, 0, 0, 0, 0, 0};
    any = new Dhcpv6Responder(*Dhcpv6Responder::Create(o, bridge, ""));
    vm = new Dhcpv6Responder(*Dhcpv6Responder::Create(o, bridge, "02:11:22:33:44:55"));
  }
  return filtered ? *vm : *any;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  auto m = DecodeDhcpv6(in);
  if (m.ok()) {
    std::vector<uint8_t> again = EncodeDhcpv6(*m);
    if (again.size() != size || !std::equal(again.begin(), again.end(), data)) abort();
    for (const auto& o : m->options) {
      switch (o.code) {
        case opt6::kIaNa:
          (void)DecodeIaNa(o.data);
          break;
        case opt6::kOro:
          (void)DecodeOro(o.data);
          break;
        case opt6::kDomainList:
          (void)DecodeDomainList(o.data);
          break;
        case opt6::kDnsServers:
          (void)DecodeAddresses(o.data);
          break;
        case opt6::kStatusCode:
          (void)DecodeStatusCode(o.data);
          break;
        case opt6::kClientId:
          (void)MacFromDuid(o.data);
          break;
        default:
          break;
      }
    }
  }
  const Ipv6 sources[] = {LinkLocalFromMac({2, 0x11, 0x22, 0x33, 0x44, 0x55}), Ipv6{}};
  for (bool filtered : {false, true})
    for (const Ipv6& src : sources) {
      Dhcpv6Outcome out = Responder(filtered).Respond(in, src);
      if (out.reply && !DecodeDhcpv6(out.payload).ok()) abort();
    }
  return 0;
}
