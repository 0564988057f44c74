// IpAddress and IpPrefix: inet_pton/inet_ntop for the text, byte arithmetic for the rest.
#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "k6t/api/net.h"
#include "net_util.h"

namespace k6t::api {
namespace {

// The address with every bit from `keep` on cleared.
IpAddress ClearFrom(const IpAddress& a, int keep) {
  std::array<uint8_t, 16> b{};
  std::copy(a.bytes().begin(), a.bytes().end(), b.begin());
  for (int i = 0; i < static_cast<int>(a.bytes().size()); ++i) {
    const int bits = std::clamp(keep - i * 8, 0, 8);
    b[i] &= static_cast<uint8_t>(bits == 0 ? 0 : 0xff << (8 - bits));
  }
  if (a.is_v4()) return IpAddress::V4({b[0], b[1], b[2], b[3]});
  return IpAddress::V6(b);
}

}  // namespace

IpAddress IpAddress::V4(const std::array<uint8_t, 4>& bytes) {
  IpAddress a;
  a.family_ = IpFamily::kV4;
  std::copy(bytes.begin(), bytes.end(), a.bytes_.begin());
  return a;
}

IpAddress IpAddress::V6(const std::array<uint8_t, 16>& bytes) {
  IpAddress a;
  a.family_ = IpFamily::kV6;
  a.bytes_ = bytes;
  return a;
}

std::optional<IpAddress> IpAddress::FromBytes(std::span<const uint8_t> bytes) {
  IpAddress a;
  if (bytes.size() == 4) {
    a.family_ = IpFamily::kV4;
  } else if (bytes.size() == 16) {
    a.family_ = IpFamily::kV6;
  } else {
    return std::nullopt;
  }
  std::copy(bytes.begin(), bytes.end(), a.bytes_.begin());
  return a;
}

absl::StatusOr<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("\"\" is not an IP address: empty");
  if (text.size() > kMaxTextSize)
    return absl::InvalidArgumentError(absl::StrCat(internal::Quote(text.substr(0, kMaxTextSize)),
                                                   " is not an IP address: longer than ",
                                                   kMaxTextSize, " characters"));
  const bool v6 = text.find(':') != std::string_view::npos;
  char buf[kMaxTextSize + 1] = {};
  std::memcpy(buf, text.data(), text.size());
  IpAddress a;
  a.family_ = v6 ? IpFamily::kV6 : IpFamily::kV4;
  // A NUL inside would end the C string early and let a prefix of the text pass.
  if (text.find('\0') != std::string_view::npos ||
      inet_pton(v6 ? AF_INET6 : AF_INET, buf, a.bytes_.data()) != 1)
    return absl::InvalidArgumentError(
        absl::StrCat(internal::Quote(text),
                     v6 ? " is not an IPv6 address"
                        : " is not an IPv4 address (four decimal numbers 0..255, no leading "
                          "zeros)"));
  return a;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof(buf));
  return buf;
}

bool IpAddress::IsLinkLocal() const {
  if (is_v4()) return bytes_[0] == 169 && bytes_[1] == 254;
  return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
}

bool IpAddress::IsLoopback() const {
  if (is_v4()) return bytes_[0] == 127;
  return *this == V6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
}

absl::StatusOr<IpPrefix> IpPrefix::Make(const IpAddress& address, int length) {
  if (length < 0 || length > address.bit_length())
    return absl::InvalidArgumentError(absl::StrCat("prefix length ", length, " of ",
                                                   address.ToString(), " is not in 0..",
                                                   address.bit_length()));
  IpPrefix p;
  p.address_ = address;
  p.length_ = length;
  return p;
}

absl::StatusOr<IpPrefix> IpPrefix::Parse(std::string_view text) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat(internal::Quote(text.substr(0, kMaxTextSize)), " is not an IP prefix: ", why));
  };
  if (text.size() > kMaxTextSize)
    return bad(absl::StrCat("longer than ", kMaxTextSize, " characters"));
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return bad("no prefix length (want ADDRESS/LENGTH)");
  auto address = IpAddress::Parse(text.substr(0, slash));
  if (!address.ok()) return bad(address.status().message());
  const std::string_view digits = text.substr(slash + 1);
  const int max = address->bit_length();
  int length = 0;
  bool ok = !digits.empty() && digits.size() <= 3 && (digits.size() == 1 || digits[0] != '0');
  for (char c : digits) {
    ok = ok && c >= '0' && c <= '9';
    if (ok) length = length * 10 + (c - '0');
  }
  if (!ok || length > max)
    return bad(
        absl::StrCat("prefix length ", internal::Quote(digits), " is not a number in 0..", max));
  return Make(*address, length);
}

IpAddress IpPrefix::Network() const { return ClearFrom(address_, length_); }

IpPrefix IpPrefix::Masked() const {
  IpPrefix p = *this;
  p.address_ = Network();
  return p;
}

std::optional<IpAddress> IpPrefix::Host(uint64_t offset) const {
  const int host_bits = address_.bit_length() - length_;
  if (host_bits < 64 && (offset >> host_bits) != 0) return std::nullopt;
  const IpAddress net = Network();
  std::array<uint8_t, 16> b{};
  std::copy(net.bytes().begin(), net.bytes().end(), b.begin());
  uint64_t carry = offset;
  for (int i = static_cast<int>(net.bytes().size()) - 1; i >= 0 && carry != 0; --i) {
    const uint64_t v = b[i] + (carry & 0xff);
    b[i] = static_cast<uint8_t>(v);
    carry = (carry >> 8) + (v >> 8);
  }
  if (net.is_v4()) return IpAddress::V4({b[0], b[1], b[2], b[3]});
  return IpAddress::V6(b);
}

bool IpPrefix::Contains(const IpAddress& address) const {
  return address.family() == family() && ClearFrom(address, length_) == Network();
}

std::string IpPrefix::ToString() const { return absl::StrCat(address_.ToString(), "/", length_); }

}  // namespace k6t::api
