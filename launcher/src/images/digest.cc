#include "images/digest.h"

#include <openssl/evp.h>

namespace k6t::launcher::images {

std::string Sha256DigestOf(const unsigned char* md, unsigned len) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

std::string Sha256Digest(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return Sha256DigestOf(md, len);
}

}  // namespace k6t::launcher::images
