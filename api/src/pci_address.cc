// PciAddress: KubeVirt's DDDD:BB:SS.F (pkg/util/hardware ParsePciAddress), parsed by hand.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "k6t/api/net.h"
#include "net_util.h"

namespace k6t::api {
namespace {

// `n` hex digits of `text` from `at`; nullopt when one is not a hex digit.
std::optional<unsigned> Hex(std::string_view text, size_t at, size_t n) {
  unsigned v = 0;
  for (size_t i = at; i < at + n; ++i) {
    const int d = internal::HexDigitValue(text[i]);
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<unsigned>(d);
  }
  return v;
}

}  // namespace

absl::StatusOr<PciAddress> PciAddress::Parse(std::string_view text) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(internal::Quote(text.substr(0, 64)),
                                                   " is not a PCI address (DDDD:BB:SS.F): ", why));
  };
  if (text.size() != kTextSize)
    return bad(absl::StrCat(text.size(), " characters, not ", kTextSize));
  if (text[4] != ':' || text[7] != ':' || text[10] != '.') return bad("misplaced separators");
  auto domain = Hex(text, 0, 4), bus = Hex(text, 5, 2), slot = Hex(text, 8, 2);
  if (!domain) return bad("the domain is not 4 hex digits");
  if (!bus) return bad("the bus is not 2 hex digits");
  if (!slot) return bad("the slot is not 2 hex digits");
  if (text[11] < '0' || text[11] > '7') return bad("the function is not 0..7");
  PciAddress a;
  a.domain = static_cast<uint16_t>(*domain);
  a.bus = static_cast<uint8_t>(*bus);
  a.slot = static_cast<uint8_t>(*slot);
  a.function = static_cast<uint8_t>(text[11] - '0');
  return a;
}

std::string PciAddress::ToString() const {
  return absl::StrFormat("%04x:%02x:%02x.%x", domain, bus, slot, function);
}

}  // namespace k6t::api
