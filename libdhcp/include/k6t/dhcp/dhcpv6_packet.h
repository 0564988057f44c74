// DHCPv6 client/server messages and the options k6t reads or writes (RFC 8415, RFC 3646).
// Relay messages are not decoded: k6t serves the one link of its bridge.
// Errors: InvalidArgument naming the option for malformed input (decoding is total, as for
// DHCPv4), ResourceExhausted beyond the option-count bound. Thread-safety: pure functions.
// Privileges: none.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "k6t/dhcp/dhcpv4_packet.h"

namespace k6t::dhcp {

using Ipv6 = std::array<uint8_t, 16>;

enum class Dhcpv6Type : uint8_t {
  kSolicit = 1,
  kAdvertise = 2,
  kRequest = 3,
  kConfirm = 4,
  kRenew = 5,
  kRebind = 6,
  kReply = 7,
  kRelease = 8,
  kDecline = 9,
  kReconfigure = 10,
  kInformationRequest = 11,
  kRelayForw = 12,
  kRelayRepl = 13,
};

namespace opt6 {
inline constexpr uint16_t kClientId = 1;
inline constexpr uint16_t kServerId = 2;
inline constexpr uint16_t kIaNa = 3;
inline constexpr uint16_t kIaTa = 4;
inline constexpr uint16_t kIaAddr = 5;
inline constexpr uint16_t kOro = 6;
inline constexpr uint16_t kPreference = 7;
inline constexpr uint16_t kElapsedTime = 8;
inline constexpr uint16_t kStatusCode = 13;
inline constexpr uint16_t kRapidCommit = 14;
inline constexpr uint16_t kDnsServers = 23;
inline constexpr uint16_t kDomainList = 24;
inline constexpr uint16_t kIaPd = 25;
}  // namespace opt6

enum class Dhcpv6Status : uint16_t {
  kSuccess = 0,
  kUnspecFail = 1,
  kNoAddrsAvail = 2,
  kNoBinding = 3,
  kNotOnLink = 4,
  kUseMulticast = 5,
};

inline constexpr uint16_t kDhcpv6ClientPort = 546;
inline constexpr uint16_t kDhcpv6ServerPort = 547;
inline constexpr size_t kDhcpv6MaxOptions = 64;  // per message or option list; more is hostile

struct Dhcpv6Option {
  uint16_t code = 0;
  std::string data;
  bool operator==(const Dhcpv6Option&) const = default;
};

struct Dhcpv6Message {
  Dhcpv6Type type = Dhcpv6Type::kSolicit;
  uint32_t xid = 0;                   // 24 bits
  std::vector<Dhcpv6Option> options;  // wire order; repeated codes kept separate

  const std::string* Find(uint16_t code) const;  // first instance
  std::vector<const Dhcpv6Option*> FindAll(uint16_t code) const;
};

// Parses a TLV option list (a message body or the options of an IA/IAADDR). Fails on a
// truncated option or more than kDhcpv6MaxOptions options.
absl::StatusOr<std::vector<Dhcpv6Option>> DecodeDhcpv6Options(std::span<const uint8_t> data);
void EncodeDhcpv6Options(const std::vector<Dhcpv6Option>& options, std::string& out);

// Fails on fewer than 4 bytes, a relay message type, or bad options.
absl::StatusOr<Dhcpv6Message> DecodeDhcpv6(std::span<const uint8_t> packet);
std::vector<uint8_t> EncodeDhcpv6(const Dhcpv6Message& message);

struct IaAddress {
  Ipv6 address{};
  uint32_t preferred = 0;
  uint32_t valid = 0;
  std::vector<Dhcpv6Option> options;
  bool operator==(const IaAddress&) const = default;
};

struct IaNa {
  uint32_t iaid = 0;
  uint32_t t1 = 0;
  uint32_t t2 = 0;
  std::vector<IaAddress> addresses;
  std::vector<Dhcpv6Option> options;  // other than IAADDR (e.g. a status code)
  bool operator==(const IaNa&) const = default;
};

absl::StatusOr<IaNa> DecodeIaNa(std::string_view data);
std::string EncodeIaNa(const IaNa& ia);
std::string EncodeStatusCode(Dhcpv6Status status, std::string_view message);
// Returns the status of a status-code option payload (message dropped).
absl::StatusOr<Dhcpv6Status> DecodeStatusCode(std::string_view data);
absl::StatusOr<std::vector<uint16_t>> DecodeOro(std::string_view data);
std::string EncodeOro(const std::vector<uint16_t>& codes);
std::string EncodeAddresses(const std::vector<Ipv6>& addresses);  // option 23 payload
absl::StatusOr<std::vector<Ipv6>> DecodeAddresses(std::string_view data);

// DUID-LL (type 3) with hardware type 1 (Ethernet).
std::string DuidLl(const Mac& mac);
// The MAC inside a DUID-LLT (1) or DUID-LL (3) of hardware type 1, if it is one.
std::optional<Mac> MacFromDuid(std::string_view duid);

absl::StatusOr<Ipv6> ParseIpv6(std::string_view text);
std::string FormatIpv6(const Ipv6& a);

}  // namespace k6t::dhcp
