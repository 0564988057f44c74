// BOOTP/DHCPv4 messages (RFC 2131/2132) and the option encodings k6t offers: classless
// static routes (RFC 3442), long options split/concatenated (RFC 3396), option overloading
// into `file`/`sname` (option 52). Decoding is total: any byte string yields a message or
// an error, never a read past the input.
//
// Errors: InvalidArgument naming the field or option for malformed input; ResourceExhausted
// when options do not fit the message size. Thread-safety: pure functions. Privileges: none.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace k6t::dhcp {

using Ipv4 = std::array<uint8_t, 4>;
using Mac = std::array<uint8_t, 6>;

enum class Dhcpv4Type : uint8_t {
  kDiscover = 1,
  kOffer = 2,
  kRequest = 3,
  kDecline = 4,
  kAck = 5,
  kNak = 6,
  kRelease = 7,
  kInform = 8,
};

namespace opt4 {
inline constexpr uint8_t kPad = 0;
inline constexpr uint8_t kSubnetMask = 1;
inline constexpr uint8_t kRouter = 3;
inline constexpr uint8_t kDns = 6;
inline constexpr uint8_t kHostname = 12;
inline constexpr uint8_t kDomainName = 15;
inline constexpr uint8_t kMtu = 26;
inline constexpr uint8_t kNtp = 42;
inline constexpr uint8_t kRequestedIp = 50;
inline constexpr uint8_t kLeaseTime = 51;
inline constexpr uint8_t kOverload = 52;
inline constexpr uint8_t kMessageType = 53;
inline constexpr uint8_t kServerId = 54;
inline constexpr uint8_t kParamRequest = 55;
inline constexpr uint8_t kMessage = 56;
inline constexpr uint8_t kMaxMessageSize = 57;
inline constexpr uint8_t kRenewalTime = 58;
inline constexpr uint8_t kRebindingTime = 59;
inline constexpr uint8_t kClientId = 61;
inline constexpr uint8_t kTftpServer = 66;
inline constexpr uint8_t kBootFile = 67;
inline constexpr uint8_t kDomainSearch = 119;
inline constexpr uint8_t kClasslessRoutes = 121;
inline constexpr uint8_t kEnd = 255;
}  // namespace opt4

inline constexpr size_t kDhcpv4FixedSize = 236;  // op .. file, before the magic cookie
inline constexpr size_t kDhcpv4OptionsOffset = 240;
inline constexpr size_t kBootpMinSize = 300;         // RFC 951 message with a 64-byte vend area
inline constexpr size_t kDhcpv4MinMaxMessage = 576;  // RFC 2132 §9.10 floor of option 57
inline constexpr uint16_t kBroadcastFlag = 0x8000;
inline constexpr uint8_t kBootRequest = 1;
inline constexpr uint8_t kBootReply = 2;

struct Dhcpv4Option {
  uint8_t code = 0;
  std::string data;
  bool operator==(const Dhcpv4Option&) const = default;
};

struct Dhcpv4Message {
  uint8_t op = kBootRequest;
  uint8_t htype = 1;
  uint8_t hlen = 6;
  uint8_t hops = 0;
  uint32_t xid = 0;
  uint16_t secs = 0;
  uint16_t flags = 0;
  Ipv4 ciaddr{};
  Ipv4 yiaddr{};
  Ipv4 siaddr{};
  Ipv4 giaddr{};
  std::array<uint8_t, 16> chaddr{};
  // Raw fields. After decoding, a field that carried overloaded options reads as zeros.
  std::array<uint8_t, 64> sname{};
  std::array<uint8_t, 128> file{};
  // Decoded: one entry per code, instances concatenated (RFC 3396) in first-seen order.
  // Encoded: in this order (unless spilled, see EncodeDhcpv4); data longer than 255 bytes
  // is split into instances.
  std::vector<Dhcpv4Option> options;

  const std::string* Find(uint8_t code) const;
  void Set(uint8_t code, std::string data);  // replaces or appends
  std::optional<Dhcpv4Type> Type() const;    // option 53 when it is one valid byte
  bool broadcast() const { return (flags & kBroadcastFlag) != 0; }
  Mac client_mac() const;  // first 6 bytes of chaddr
};

// Fails on: fewer than 240 bytes, a wrong magic cookie, hlen > 16, an option running past its
// field, a bad option 52 value.
absl::StatusOr<Dhcpv4Message> DecodeDhcpv4(std::span<const uint8_t> packet);

struct Dhcpv4Encoding {
  std::vector<uint8_t> bytes;
  bool overloaded = false;  // options spilled into file/sname (option 52 present)
};

// Writes the message, options ended by End, padded to the BOOTP minimum of 300 bytes.
// `max_size` bounds the DHCP payload (the client's option 57 minus the 28 bytes of IP and
// UDP headers). Data longer than 255 bytes goes in several instances of its option (RFC
// 3396). When the options do not fit the options field, they spill into `file` and `sname`
// if those are unused (option 52), each instance whole, packed largest first, the message's
// first option still first; otherwise ResourceExhausted names an option that did not fit.
absl::StatusOr<Dhcpv4Encoding> EncodeDhcpv4(const Dhcpv4Message& message,
                                            size_t max_size = kDhcpv4MinMaxMessage - 28);

// ---- Option payload helpers.

struct ClasslessRoute {
  Ipv4 destination{};
  int prefix_len = 0;
  Ipv4 router{};  // 0.0.0.0: on-link
  bool operator==(const ClasslessRoute&) const = default;
};

// RFC 3442: per route, the width, the significant octets of the destination, the router.
// Fails on a prefix length outside 0..32 or host bits set in the destination.
absl::StatusOr<std::string> EncodeClasslessRoutes(const std::vector<ClasslessRoute>& routes);
absl::StatusOr<std::vector<ClasslessRoute>> DecodeClasslessRoutes(std::string_view data);

std::string Ipv4Bytes(const Ipv4& a);  // the 4 raw bytes as option data
absl::StatusOr<Ipv4> ParseIpv4(std::string_view text);
std::string FormatIpv4(const Ipv4& a);
absl::StatusOr<Mac> ParseMac(std::string_view text);  // "02:00:00:00:00:00"
std::string FormatMac(const Mac& m);
Ipv4 PrefixToMask(int prefix_len);

}  // namespace k6t::dhcp
