// The one non-cryptographic hash of the tree: 64-bit FNV-1a, stable across processes,
// builds and machines (unlike std::hash), for values derived from names that must not
// change between runs: derived MACs, the domain UUID, nftables fingerprints, cache
// directory names, table keys. Not for anything an attacker must not be able to collide
// (use SHA-256, as pod interface naming does).
//
// Thread-safety: pure constexpr functions. Privileges: none.
#pragma once

#include <cstdint>
#include <string_view>

namespace k6t::api {

// FNV-1a's 64-bit offset basis: the seed of the plain hash.
inline constexpr uint64_t kFnv1a64Basis = 0xcbf29ce484222325ULL;

// The seed of the values k6t derived before this header existed (the bridges' derived MACs,
// nftables table fingerprints): FNV-1a's basis with its last decimal digit lost
// (1469598103934665603, not 14695981039346656037). Kept, because changing it would change
// every such MAC and fingerprint already in a cache, a running pod or a golden file.
inline constexpr uint64_t kFnv1a64K6tSeed = 1469598103934665603ULL;

// FNV-1a over `data`, starting from `seed` (kFnv1a64Basis for the standard hash; another
// value chains or separates hashes, as the domain UUID's second half does).
constexpr uint64_t Fnv1a64(std::string_view data, uint64_t seed = kFnv1a64Basis) {
  uint64_t h = seed;
  for (char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;  // FNV-1a's 64-bit prime
  }
  return h;
}

}  // namespace k6t::api
