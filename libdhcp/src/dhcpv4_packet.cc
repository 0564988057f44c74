#include "k6t/dhcp/dhcpv4_packet.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bytes.h"

namespace k6t::dhcp {
namespace {

constexpr uint8_t kMagic[4] = {99, 130, 83, 99};
constexpr size_t kSnameOffset = 44;
constexpr size_t kFileOffset = 108;

// Appends the options of one field to `out`, concatenating repeated codes (RFC 3396).
absl::Status ParseField(std::span<const uint8_t> field, const char* where,
                        std::vector<Dhcpv4Option>& out) {
  size_t i = 0;
  while (i < field.size()) {
    const uint8_t code = field[i];
    if (code == opt4::kPad) {
      ++i;
      continue;
    }
    if (code == opt4::kEnd) return absl::OkStatus();
    if (i + 1 >= field.size())
      return absl::InvalidArgumentError(
          absl::StrCat("option ", code, " in ", where, " has no length byte"));
    const size_t len = field[i + 1];
    if (i + 2 + len > field.size())
      return absl::InvalidArgumentError(absl::StrCat("option ", code, " in ", where, " claims ",
                                                     len, " bytes, ", field.size() - i - 2,
                                                     " left"));
    const char* data = reinterpret_cast<const char*>(field.data() + i + 2);
    auto it = std::find_if(out.begin(), out.end(),
                           [code](const Dhcpv4Option& o) { return o.code == code; });
    if (it == out.end()) {
      out.push_back(Dhcpv4Option{code, std::string(data, len)});
    } else {
      it->data.append(data, len);
    }
    i += 2 + len;
  }
  // A missing End is tolerated: the field's end is unambiguous.
  return absl::OkStatus();
}

struct Chunk {
  uint8_t code;
  std::string_view data;
  size_t size() const { return 2 + data.size(); }
};

void WriteChunk(std::vector<uint8_t>& out, const Chunk& c) {
  out.push_back(c.code);
  out.push_back(static_cast<uint8_t>(c.data.size()));
  out.insert(out.end(), c.data.begin(), c.data.end());
}

}  // namespace

const std::string* Dhcpv4Message::Find(uint8_t code) const {
  for (const auto& o : options)
    if (o.code == code) return &o.data;
  return nullptr;
}

void Dhcpv4Message::Set(uint8_t code, std::string data) {
  for (auto& o : options)
    if (o.code == code) {
      o.data = std::move(data);
      return;
    }
  options.push_back(Dhcpv4Option{code, std::move(data)});
}

std::optional<Dhcpv4Type> Dhcpv4Message::Type() const {
  const std::string* t = Find(opt4::kMessageType);
  if (t == nullptr || t->size() != 1) return std::nullopt;
  const uint8_t v = static_cast<uint8_t>((*t)[0]);
  if (v < 1 || v > 8) return std::nullopt;
  return static_cast<Dhcpv4Type>(v);
}

Mac Dhcpv4Message::client_mac() const {
  Mac m;
  std::copy_n(chaddr.begin(), 6, m.begin());
  return m;
}

absl::StatusOr<Dhcpv4Message> DecodeDhcpv4(std::span<const uint8_t> p) {
  if (p.size() < kDhcpv4OptionsOffset)
    return absl::InvalidArgumentError(
        absl::StrCat("DHCPv4 message of ", p.size(), " bytes, need at least 240"));
  internal::Reader r(p);
  Dhcpv4Message m;
  r.U8(m.op);
  r.U8(m.htype);
  r.U8(m.hlen);
  r.U8(m.hops);
  r.U32(m.xid);
  r.U16(m.secs);
  r.U16(m.flags);
  std::copy_n(p.begin() + 12, 4, m.ciaddr.begin());
  std::copy_n(p.begin() + 16, 4, m.yiaddr.begin());
  std::copy_n(p.begin() + 20, 4, m.siaddr.begin());
  std::copy_n(p.begin() + 24, 4, m.giaddr.begin());
  std::copy_n(p.begin() + 28, 16, m.chaddr.begin());
  std::copy_n(p.begin() + kSnameOffset, 64, m.sname.begin());
  std::copy_n(p.begin() + kFileOffset, 128, m.file.begin());
  if (m.hlen > 16) return absl::InvalidArgumentError(absl::StrCat("hlen ", m.hlen, " > 16"));
  if (!std::equal(kMagic, kMagic + 4, p.begin() + kDhcpv4FixedSize))
    return absl::InvalidArgumentError("no DHCP magic cookie (plain BOOTP is not served)");

  if (absl::Status st = ParseField(p.subspan(kDhcpv4OptionsOffset), "options", m.options); !st.ok())
    return st;
  // Option 52 is only meaningful in the options field; it is read before the overloaded
  // fields are parsed so an overload inside `file` cannot re-trigger itself.
  uint8_t overload = 0;
  if (const std::string* o = m.Find(opt4::kOverload)) {
    if (o->size() != 1 || (*o)[0] < 1 || (*o)[0] > 3)
      return absl::InvalidArgumentError("option 52 (overload) must be one byte 1, 2 or 3");
    overload = static_cast<uint8_t>((*o)[0]);
  }
  if (overload & 1) {
    if (absl::Status st = ParseField(m.file, "file", m.options); !st.ok()) return st;
    m.file.fill(0);
  }
  if (overload & 2) {
    if (absl::Status st = ParseField(m.sname, "sname", m.options); !st.ok()) return st;
    m.sname.fill(0);
  }
  return m;
}

absl::StatusOr<Dhcpv4Encoding> EncodeDhcpv4(const Dhcpv4Message& m, size_t max_size) {
  max_size = std::max(max_size, kBootpMinSize);
  std::vector<Chunk> chunks;
  size_t total = 0;
  for (const auto& o : m.options) {
    if (o.code == opt4::kPad || o.code == opt4::kEnd || o.code == opt4::kOverload)
      return absl::InvalidArgumentError(absl::StrCat("option code ", o.code, " is reserved"));
    std::string_view d = o.data;
    do {
      const size_t n = std::min<size_t>(d.size(), 255);
      chunks.push_back(Chunk{o.code, d.substr(0, n)});
      total += 2 + n;
      d.remove_prefix(n);
    } while (!d.empty());
  }

  Dhcpv4Encoding enc;
  std::vector<uint8_t>& out = enc.bytes;
  out.reserve(max_size);
  internal::Writer w(out);
  w.U8(m.op);
  w.U8(m.htype);
  w.U8(m.hlen);
  w.U8(m.hops);
  w.U32(m.xid);
  w.U16(m.secs);
  w.U16(m.flags);
  w.Bytes(m.ciaddr);
  w.Bytes(m.yiaddr);
  w.Bytes(m.siaddr);
  w.Bytes(m.giaddr);
  w.Bytes(m.chaddr);
  std::array<uint8_t, 64> sname = m.sname;
  std::array<uint8_t, 128> file = m.file;
  const size_t main_cap = max_size - kDhcpv4OptionsOffset;

  std::vector<uint8_t> main_area;
  if (total + 1 <= main_cap) {
    for (const auto& c : chunks) WriteChunk(main_area, c);
  } else {
    const bool sname_free = std::all_of(sname.begin(), sname.end(), [](uint8_t b) { return !b; });
    const bool file_free = std::all_of(file.begin(), file.end(), [](uint8_t b) { return !b; });
    // The options field (less option 52 and End), then file, then sname: the RFC 3396
    // concatenation order. Placed largest first, each in the first area with room (far
    // fuller areas than filling them in order); a split option's pieces never go to an
    // area before the previous piece's. Each area is then written in the original order,
    // so the first option (the message type) stays first and the pieces stay in sequence.
    std::vector<uint8_t> areas[3];
    const size_t caps[3] = {main_cap - 3 - 1, file_free ? file.size() - 1 : 0,
                            sname_free ? sname.size() - 1 : 0};
    std::vector<size_t> order(chunks.size());
    std::iota(order.begin(), order.end(), size_t{0});
    if (!order.empty())
      std::stable_sort(order.begin() + 1, order.end(),
                       [&](size_t a, size_t b) { return chunks[a].size() > chunks[b].size(); });
    std::vector<size_t> placed[3];
    size_t used[3] = {0, 0, 0};
    std::array<size_t, 256> first_area{};  // per code: the area of its last piece placed
    for (size_t i : order) {
      const Chunk& c = chunks[i];
      size_t area = first_area[c.code];
      while (area < 3 && used[area] + c.size() > caps[area]) ++area;
      if (area == 3)
        return absl::ResourceExhaustedError(absl::StrCat("DHCPv4 options do not fit in ", max_size,
                                                         " bytes (at option ", c.code, ")"));
      used[area] += c.size();
      placed[area].push_back(i);
      first_area[c.code] = area;
    }
    for (size_t area = 0; area < 3; ++area) {
      std::sort(placed[area].begin(), placed[area].end());
      for (size_t i : placed[area]) WriteChunk(areas[area], chunks[i]);
    }
    const uint8_t overload = (areas[1].empty() ? 0 : 1) | (areas[2].empty() ? 0 : 2);
    main_area.push_back(opt4::kOverload);
    main_area.push_back(1);
    main_area.push_back(overload ? overload : 1);
    main_area.insert(main_area.end(), areas[0].begin(), areas[0].end());
    if (overload & 1) {
      file.fill(0);
      areas[1].push_back(opt4::kEnd);
      std::copy(areas[1].begin(), areas[1].end(), file.begin());
    }
    if (overload & 2) {
      sname.fill(0);
      areas[2].push_back(opt4::kEnd);
      std::copy(areas[2].begin(), areas[2].end(), sname.begin());
    }
    enc.overloaded = true;
  }
  w.Bytes(sname);
  w.Bytes(file);
  w.Bytes(std::span<const uint8_t>(kMagic, 4));
  w.Bytes(main_area);
  w.U8(opt4::kEnd);
  if (out.size() < kBootpMinSize) out.resize(kBootpMinSize, 0);
  return enc;
}

absl::StatusOr<std::string> EncodeClasslessRoutes(const std::vector<ClasslessRoute>& routes) {
  std::string out;
  for (const auto& r : routes) {
    if (r.prefix_len < 0 || r.prefix_len > 32)
      return absl::InvalidArgumentError(absl::StrCat("route prefix length ", r.prefix_len));
    const Ipv4 mask = PrefixToMask(r.prefix_len);
    for (int i = 0; i < 4; ++i)
      if (r.destination[i] & ~mask[i])
        return absl::InvalidArgumentError(absl::StrCat("route ", FormatIpv4(r.destination), "/",
                                                       r.prefix_len, " has host bits set"));
    out.push_back(static_cast<char>(r.prefix_len));
    const int significant = (r.prefix_len + 7) / 8;
    out.append(reinterpret_cast<const char*>(r.destination.data()), significant);
    out.append(Ipv4Bytes(r.router));
  }
  return out;
}

absl::StatusOr<std::vector<ClasslessRoute>> DecodeClasslessRoutes(std::string_view d) {
  std::vector<ClasslessRoute> routes;
  size_t i = 0;
  while (i < d.size()) {
    ClasslessRoute r;
    r.prefix_len = static_cast<uint8_t>(d[i]);
    if (r.prefix_len > 32)
      return absl::InvalidArgumentError(absl::StrCat("classless route width ", r.prefix_len));
    const size_t significant = (r.prefix_len + 7) / 8;
    if (i + 1 + significant + 4 > d.size())
      return absl::InvalidArgumentError("classless route truncated");
    std::copy_n(d.begin() + i + 1, significant, r.destination.begin());
    std::copy_n(d.begin() + i + 1 + significant, 4, r.router.begin());
    routes.push_back(r);
    i += 1 + significant + 4;
  }
  return routes;
}

std::string Ipv4Bytes(const Ipv4& a) { return std::string(a.begin(), a.end()); }

absl::StatusOr<Ipv4> ParseIpv4(std::string_view text) {
  std::string s(text);
  Ipv4 a;
  if (inet_pton(AF_INET, s.c_str(), a.data()) != 1)
    return absl::InvalidArgumentError(absl::StrCat("\"", s, "\" is not an IPv4 address"));
  return a;
}

std::string FormatIpv4(const Ipv4& a) {
  return absl::StrFormat("%d.%d.%d.%d", a[0], a[1], a[2], a[3]);
}

absl::StatusOr<Mac> ParseMac(std::string_view text) {
  Mac m;
  unsigned v[6];
  char tail;
  std::string s(text);
  if (s.size() != 17 || std::sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2],
                                    &v[3], &v[4], &v[5], &tail) != 6)
    return absl::InvalidArgumentError(absl::StrCat("\"", s, "\" is not a MAC address"));
  for (int i = 0; i < 6; ++i) m[i] = static_cast<uint8_t>(v[i]);
  return m;
}

std::string FormatMac(const Mac& m) {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

Ipv4 PrefixToMask(int prefix_len) {
  const uint32_t bits = prefix_len <= 0    ? 0
                        : prefix_len >= 32 ? 0xFFFFFFFFu
                                           : ~((1u << (32 - prefix_len)) - 1);
  return Ipv4{static_cast<uint8_t>(bits >> 24), static_cast<uint8_t>(bits >> 16),
              static_cast<uint8_t>(bits >> 8), static_cast<uint8_t>(bits)};
}

}  // namespace k6t::dhcp
