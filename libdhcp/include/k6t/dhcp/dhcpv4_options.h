// The DHCPv4 configuration options of one offer, checked and encoded once, and what gives
// way when a reply cannot hold them all.
//
// A reply may be as large as the client's maximum message size (option 57), bounded by the
// link MTU and never below RFC 2131's 576 bytes; EncodeDhcpv4 first spills options into the
// `file` and `sname` fields (option 52). What still does not fit is left out, first to last:
//   1. search domains, the last first, down to the first one (option 119; option 15 stays
//      the longest domain still offered)
//   2. private options (224..254), the last listed first
//   3. the NTP servers (42)
//   4. the domain name (15)
//   5. the first search domain (option 119 is then absent)
//   6. the boot file name (67), then the TFTP server name (66)
//   7. the host name (12)
// Never left out: the subnet mask (1), router (3), classless static routes (121), DNS
// servers (6) and MTU (26), nor the reply's own options (type, server id, lease times):
// FromOffer refuses an offer whose essentials do not fit a 576-byte reply.
// Whatever the size, a search domain is left out when it is not a valid domain name, repeats
// an earlier one, or would take the list past kMaxSearchListBytes (dns_name.h). A list
// longer than 255 bytes goes in several instances of option 119, which clients join (RFC
// 3397 requires RFC 3396 of them; busybox udhcpc and ISC dhclient do).
//
// Routes (RFC 3442): option 121 carries the offer's routes, the default route last; a client
// that gets option 121 ignores option 3, so the default route is in the list whenever there
// is one (the offer's 0.0.0.0/0 route, else one via `router`). No router and no default
// route: the guest gets none from this interface (only its subnet and the listed routes).
//
// Errors: FromOffer returns InvalidArgument naming the offer's field. Thread-safety:
// immutable after FromOffer. Privileges: none.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "k6t/api/dhcp_offer.h"
#include "k6t/dhcp/dhcpv4_packet.h"

namespace k6t::dhcp {

// A reply's bytes after the fit, and what its options left out, in the order above.
struct Dhcpv4Fit {
  Dhcpv4Message message;
  std::vector<uint8_t> bytes;
  std::vector<std::string> left_out;  // e.g. "search domain c.example", "option 240"
};

class Dhcpv4Options {
 public:
  static absl::StatusOr<Dhcpv4Options> FromOffer(const api::DhcpV4Offer& offer);

  // Appends the configuration options to a copy of `reply` (which holds its own options
  // already), leaving out as little as needed to encode it in `max_payload` bytes (the UDP
  // payload: the message size less 28 bytes of IP and UDP headers), but at least the first
  // `at_least` items of the order above (what a larger budget had to leave out: a smaller
  // one never needs less, so the search can start there). ResourceExhausted when even the
  // essentials do not fit.
  absl::StatusOr<Dhcpv4Fit> Fit(const Dhcpv4Message& reply, size_t max_payload,
                                size_t at_least = 0) const;

  // What the offer left out whatever the reply size (invalid, repeated or surplus search
  // domains), with the reason.
  const std::vector<std::string>& skipped() const { return skipped_; }
  // Every option, nothing left out, in wire order: 1, 3, 121, 6, 26, 12, 15, 119, 42, 66,
  // 67, 224..254.
  std::vector<Dhcpv4Option> All() const { return Build(0); }
  size_t droppable() const { return drops_.size(); }

 private:
  enum class Step {
    kSearchTail,
    kPrivate,
    kNtp,
    kDomainName,
    kFirstSearch,
    kBootFile,
    kTftp,
    kHostname
  };
  Dhcpv4Options() = default;
  std::vector<Dhcpv4Option> Build(size_t dropped) const;  // the first `dropped` steps applied

  struct Drop {
    Step step;
    std::string what;  // for the log: "search domain c.example", "option 240"
  };
  std::vector<Dhcpv4Option> essential_;  // 1, 3, 121, 6, 26
  std::string hostname_;
  std::vector<std::string> search_;       // valid, unique, kMaxSearchListBytes at most
  std::vector<std::string> search_wire_;  // each in RFC 1035 form
  std::string ntp_;
  std::string tftp_;
  std::string boot_file_;
  std::vector<Dhcpv4Option> private_;
  std::vector<std::string> skipped_;
  std::vector<Drop> drops_;  // the order above, for what this offer has
};

}  // namespace k6t::dhcp
