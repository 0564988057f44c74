// The network values every part of k6t speaks: Ethernet MAC addresses, IP addresses and
// prefixes of both families, and guest/host PCI addresses. A value is parsed once, where it
// enters (spec decode, CNI config, network-status, netlink replies), into one of these
// types, and printed in one canonical form, so that equal values are equal strings in the
// plan, the domain XML, the DHCP server and the status.
//
// Errors: Parse returns InvalidArgument naming the text and what is wrong with it. Text
// longer than the type's kMaxTextSize is refused before it is read (the parsers see
// outside input). MacAddress::Parse returns OutOfRange for a well-formed EUI-64 or
// InfiniBand address (8 or 20 bytes): Go's net.ParseMAC, and so KubeVirt, parse those, but
// an Ethernet NIC cannot use them.
// Thread-safety: immutable values and pure functions. Privileges: none.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace k6t::api {

// Lower-case, colon-separated hex of a hardware address of any length ("02:00:5e:00:53:01";
// "" for none), as `ip link` prints IFLA_ADDRESS.
std::string FormatHardwareAddress(std::span<const uint8_t> bytes);

// A 6-byte Ethernet address.
class MacAddress {
 public:
  static constexpr size_t kSize = 6;
  // The longest text Go's net.ParseMAC accepts: 20 bytes in colon form.
  static constexpr size_t kMaxTextSize = 59;
  using Bytes = std::array<uint8_t, kSize>;

  constexpr MacAddress() = default;  // 00:00:00:00:00:00
  constexpr explicit MacAddress(const Bytes& bytes) : bytes_(bytes) {}

  // Every form KubeVirt's admission accepts for an Ethernet address (Go's net.ParseMAC with
  // 6 bytes): "02:00:5e:00:53:01", "02-00-5e-00-53-01", "0200.5e00.5301", in any case.
  static absl::StatusOr<MacAddress> Parse(std::string_view text);
  // A 6-byte address read from the kernel or a packet; nullopt for any other length.
  static std::optional<MacAddress> FromBytes(std::span<const uint8_t> bytes);

  // Canonical form: lower-case, colon-separated ("02:00:5e:00:53:01").
  std::string ToString() const;
  const Bytes& bytes() const { return bytes_; }

  // I/G bit: a group (multicast or broadcast) address, never a NIC's own.
  bool IsMulticast() const { return (bytes_[0] & 0x01) != 0; }
  // U/L bit: assigned locally (KubeVirt's and k6t's derived MACs), not by a vendor.
  bool IsLocallyAdministered() const { return (bytes_[0] & 0x02) != 0; }
  bool IsBroadcast() const {
    return *this == MacAddress(Bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  }
  bool IsZero() const { return *this == MacAddress(); }

  friend auto operator<=>(const MacAddress&, const MacAddress&) = default;

 private:
  Bytes bytes_{};
};

enum class IpFamily : uint8_t { kV4 = 4, kV6 = 6 };

// An IPv4 or IPv6 address.
class IpAddress {
 public:
  static constexpr size_t kMaxTextSize = 45;  // INET6_ADDRSTRLEN - 1

  IpAddress() = default;  // 0.0.0.0
  static IpAddress V4(const std::array<uint8_t, 4>& bytes);
  static IpAddress V6(const std::array<uint8_t, 16>& bytes);
  // 4 bytes: IPv4, 16 bytes: IPv6 (a netlink attribute, a packet field); nullopt otherwise.
  static std::optional<IpAddress> FromBytes(std::span<const uint8_t> bytes);

  // Dotted decimal ("10.0.2.2", no leading zeros) or RFC 4291 text ("fd10:0:2::2"); no
  // prefix length, no zone.
  static absl::StatusOr<IpAddress> Parse(std::string_view text);

  IpFamily family() const { return family_; }
  bool is_v4() const { return family_ == IpFamily::kV4; }
  bool is_v6() const { return family_ == IpFamily::kV6; }
  int bit_length() const { return is_v4() ? 32 : 128; }
  // Network byte order, 4 or 16 bytes.
  std::span<const uint8_t> bytes() const { return {bytes_.data(), is_v4() ? 4u : 16u}; }
  // Canonical text (inet_ntop: "10.0.2.2", "fd10:0:2::2").
  std::string ToString() const;
  // 169.254.0.0/16 or fe80::/10: valid on one link only.
  bool IsLinkLocal() const;
  // 127.0.0.0/8 or ::1.
  bool IsLoopback() const;

  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;

 private:
  IpFamily family_ = IpFamily::kV4;
  std::array<uint8_t, 16> bytes_{};  // IPv4 in the first 4, the rest zero
};

// An address with a prefix length: a subnet ("10.0.2.0/24") or an address on one
// ("10.0.2.1/24"); the host bits are kept as written.
class IpPrefix {
 public:
  static constexpr size_t kMaxTextSize = IpAddress::kMaxTextSize + 4;  // + "/128"

  IpPrefix() = default;  // 0.0.0.0/0
  // InvalidArgument when `length` is not in 0..32 (IPv4) or 0..128 (IPv6).
  static absl::StatusOr<IpPrefix> Make(const IpAddress& address, int length);
  // "ADDRESS/LENGTH": LENGTH is decimal without a sign or leading zero.
  static absl::StatusOr<IpPrefix> Parse(std::string_view text);

  const IpAddress& address() const { return address_; }
  int length() const { return length_; }
  IpFamily family() const { return address_.family(); }
  // The address with the host bits cleared ("10.0.2.0" for 10.0.2.1/24).
  IpAddress Network() const;
  // Network()/length: the subnet itself.
  IpPrefix Masked() const;
  // Network() + `offset` ((10.0.2.0/24, 2) -> 10.0.2.2); nullopt when the offset is past
  // the end of the prefix.
  std::optional<IpAddress> Host(uint64_t offset) const;
  // Same family and the same first length() bits.
  bool Contains(const IpAddress& address) const;
  // "10.0.2.1/24", the address in canonical text.
  std::string ToString() const;

  friend auto operator<=>(const IpPrefix&, const IpPrefix&) = default;

 private:
  IpAddress address_;
  int length_ = 0;
};

// A PCI address DDDD:BB:SS.F. Parse takes exactly KubeVirt's form
// (^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$, pkg/util/hardware); the fields
// are the attributes of libvirt's <address type='pci'/> and <source><address/>.
struct PciAddress {
  static constexpr size_t kTextSize = 12;

  uint16_t domain = 0;
  uint8_t bus = 0;
  uint8_t slot = 0;
  uint8_t function = 0;  // 0..7

  static absl::StatusOr<PciAddress> Parse(std::string_view text);
  // Canonical form: lower-case hex, "0000:81:01.0".
  std::string ToString() const;

  friend auto operator<=>(const PciAddress&, const PciAddress&) = default;
};

}  // namespace k6t::api
