// Content digests as OCI spells them ("sha256:<64 lowercase hex>"): of bytes in memory, and
// of a hash a caller finished itself (layers are hashed while libarchive streams them).
// Private to launcher/ (tests reach it through launcher/src).
#pragma once

#include <string>
#include <string_view>

namespace k6t::launcher::images {

std::string Sha256Digest(std::string_view data);

// "sha256:" + the lowercase hex of `len` bytes of a finished SHA-256.
std::string Sha256DigestOf(const unsigned char* md, unsigned len);

}  // namespace k6t::launcher::images
