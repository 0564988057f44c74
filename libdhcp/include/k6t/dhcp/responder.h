// The servers' decisions as pure functions: a decoded request in, the reply (or the reason
// there is none) out. The socket layer (server.h) only moves bytes; everything a guest can
// influence is decided here and unit-tested and fuzzed without sockets.
//
// Errors: Create and MakeRouterAdvert return InvalidArgument naming the offer's bad field;
// Respond never fails (no reply is an outcome with a note). Thread-safety: a responder is
// immutable after Create, so Respond may be called from several threads. Privileges: none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "k6t/api/dhcp_offer.h"
#include "k6t/dhcp/dhcpv4_options.h"
#include "k6t/dhcp/dhcpv4_packet.h"
#include "k6t/dhcp/dhcpv6_packet.h"
#include "k6t/dhcp/ndp_packet.h"

namespace k6t::dhcp {

// ---- DHCPv4 (RFC 2131). Where the reply goes follows §4.1: NAK and broadcast-bit requests
// are broadcast; a client with ciaddr gets unicast to ciaddr; otherwise unicast to yiaddr at
// chaddr — sent on a packet socket, so neither ARP nor a route to the client is needed.
struct Dhcpv4Reply {
  Dhcpv4Message message;
  std::vector<uint8_t> payload;  // encoded UDP payload
  Ipv4 src_ip{};
  Ipv4 dst_ip{};
  Mac dst_mac{};
  bool broadcast = false;
};

struct Dhcpv4Outcome {
  std::optional<Dhcpv4Reply> reply;
  std::string note;  // what happened, for the log ("OFFER 10.0.2.2", "ignored: ...")
};

class Dhcpv4Responder {
 public:
  // Validates the offer once (addresses, routes, host name, option sizes: see
  // dhcpv4_options.h) so that answering can only fail on what the guest sent.
  // `client_mac` empty: any client. `link_mtu`: the MTU of the link the replies leave on
  // (0: unknown); with the offer's MTU it bounds the reply size a client may ask for.
  static absl::StatusOr<Dhcpv4Responder> Create(const api::DhcpV4Offer& offer,
                                                const std::string& client_mac, int link_mtu = 0);

  Dhcpv4Outcome Respond(const Dhcpv4Message& request) const;
  Dhcpv4Outcome Respond(std::span<const uint8_t> packet) const;  // decode + Respond

  const Ipv4& server_ip() const { return server_; }
  const Ipv4& client_ip() const { return client_; }
  // The largest reply a client may get: option 57 is honoured up to this (>= 576).
  size_t max_message() const { return max_message_; }
  // What an OFFER or ACK of the smallest size every client accepts (576 bytes) leaves out,
  // after what the offer leaves out at any size (Dhcpv4Options::skipped): empty when the
  // whole offer reaches every client. Clients that accept larger messages get more.
  const std::vector<std::string>& left_out() const { return left_out_; }

 private:
  Dhcpv4Responder() = default;
  Dhcpv4Reply Base(const Dhcpv4Message& req, Dhcpv4Type type) const;
  // Addresses the reply; with `configure`, adds the offer's options that fit the budget.
  Dhcpv4Outcome Finish(const Dhcpv4Message& req, Dhcpv4Reply reply, bool configure,
                       std::string note) const;
  Dhcpv4Outcome Nak(const Dhcpv4Message& req, std::string why) const;
  size_t Budget(const Dhcpv4Message& req) const;

  Ipv4 server_{};
  Ipv4 client_{};
  uint32_t lease_ = 0;
  std::optional<Mac> filter_;
  std::optional<Dhcpv4Options> options_;  // always set after Create
  size_t max_message_ = kDhcpv4MinMaxMessage;
  size_t dropped_at_min_ = 0;  // items of the drop order a 576-byte reply leaves out
  size_t dropped_at_max_ = 0;  // ... a max_message_ one
  std::vector<std::string> left_out_;
};

// ---- DHCPv6 (RFC 8415), one address per client, IA_NA only.
struct Dhcpv6Outcome {
  std::optional<Dhcpv6Message> reply;
  std::vector<uint8_t> payload;
  std::string note;
};

class Dhcpv6Responder {
 public:
  // The search list (option 24) keeps what fits kMaxSearchListBytes (dns_name.h); invalid
  // and surplus domains are left out (left_out()), never fatal.
  static absl::StatusOr<Dhcpv6Responder> Create(const api::DhcpV6Offer& offer,
                                                const Mac& server_mac,
                                                const std::string& client_mac);

  // `source` is the client's (link-local) address: with a MAC filter, a client whose DUID
  // does not carry the MAC is recognised by an EUI-64 link-local address instead.
  Dhcpv6Outcome Respond(const Dhcpv6Message& request, const Ipv6& source) const;
  Dhcpv6Outcome Respond(std::span<const uint8_t> packet, const Ipv6& source) const;

  const std::string& server_duid() const { return duid_; }
  const std::vector<std::string>& left_out() const { return left_out_; }

 private:
  Dhcpv6Responder() = default;
  bool OnLink(const Ipv6& a) const;
  IaNa Lease(const IaNa& requested) const;

  Ipv6 client_{};
  int prefix_len_ = 128;
  uint32_t lease_ = 0;
  std::string duid_;
  std::optional<Mac> filter_;
  std::vector<Dhcpv6Option> config_options_;  // 23, 24
  std::vector<std::string> left_out_;
};

// ---- Router advertisements.
absl::StatusOr<RouterAdvertParams> MakeRouterAdvert(const api::RouterAdvert& ra,
                                                    const Mac& bridge_mac);

// The EUI-64 link-local address of a MAC (fe80::xxxx:xxff:fexx:xxxx).
Ipv6 LinkLocalFromMac(const Mac& mac);

}  // namespace k6t::dhcp
