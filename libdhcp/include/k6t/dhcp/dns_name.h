// Domain names in RFC 1035 wire form, as DHCPv4 option 119 (RFC 3397) and DHCPv6 option 24
// (RFC 3646) carry them. k6t encodes without compression (every client decodes that); the
// decoder also follows compression pointers, bounded, since a guest may send anything.
// Errors: InvalidArgument naming the name or offset; ResourceExhausted past `max_bytes` or
// `max_names`; BuildSearchList never fails. Thread-safety: pure functions. Privileges: none.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace k6t::dhcp {

inline constexpr size_t kMaxDomainTextLength = 253;
inline constexpr size_t kMaxLabelLength = 63;
// The most of a search list a server offers (DHCPv4 119, DHCPv6 24), in wire form: about
// what a 1500-byte reply can carry; Kubernetes allows 32 domains of 2048 characters in all.
inline constexpr size_t kMaxSearchListBytes = 1024;

// A search domain k6t is willing to hand out: 1..253 characters, dot-separated labels of
// 1..63 letters, digits, '-' or '_' (Kubernetes service domains use neither more nor less);
// a trailing dot is accepted and ignored.
absl::Status ValidateDomainName(std::string_view name);

// Lower-cases, drops a trailing dot, then validates.
absl::StatusOr<std::string> NormalizeDomainName(std::string_view name);

// Concatenated uncompressed names; fails on an invalid name or when the result exceeds
// `max_bytes` (255 = one DHCPv4 option, what every client accepts).
absl::StatusOr<std::string> EncodeDomainList(const std::vector<std::string>& names,
                                             size_t max_bytes);

// Decodes a list of names; pointers (RFC 1035 §4.1.4) may only point backwards, which
// makes loops impossible. At most `max_names` names.
absl::StatusOr<std::vector<std::string>> DecodeDomainList(std::string_view wire,
                                                          size_t max_names = 64);

// A search list as a server offers it: each name normalised; names that are invalid or
// repeat an earlier one skipped; the list cut before the first name that would take its wire
// form past `max_bytes` (the rest too: the resolver tries them in order, so only a prefix of
// the list keeps its meaning). Never fails: what was skipped is described for the log.
struct SearchList {
  std::vector<std::string> names;    // offered, in order
  std::vector<std::string> wire;     // each name in RFC 1035 form, uncompressed
  std::vector<std::string> skipped;  // e.g. "repeated search domains: a.example"
};
SearchList BuildSearchList(const std::vector<std::string>& names, size_t max_bytes);

}  // namespace k6t::dhcp
