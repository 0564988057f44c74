// Builds container images for tests: layers written with libarchive (tar, gzip, zstd),
// content-addressed blobs, manifests, indexes, OCI layouts, OCI and docker archives.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "nlohmann/json.hpp"
#include "test/support/shell.h"

namespace k6t::testing {

// The test's own digest (OpenSSL's one-shot call), independent of the product's.
inline std::string Sha256(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return "sha256:" + absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(md), len));
}

enum class Compression { kNone, kGzip, kZstd };

struct Entry {
  std::string name;
  std::string data;
  bool dir = false;
};

// A tar layer holding `entries`.
inline std::string Layer(const std::vector<Entry>& entries, Compression c = Compression::kGzip) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (c == Compression::kGzip) archive_write_add_filter_gzip(a);
  if (c == Compression::kZstd) archive_write_add_filter_zstd(a);
  std::vector<char> buf(64 << 20);
  size_t used = 0;
  archive_write_open_memory(a, buf.data(), buf.size(), &used);
  for (const Entry& e : entries) {
    archive_entry* en = archive_entry_new();
    archive_entry_set_pathname(en, e.name.c_str());
    archive_entry_set_filetype(en, e.dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(en, e.dir ? 0755 : 0644);
    archive_entry_set_size(en, e.dir ? 0 : static_cast<la_int64_t>(e.data.size()));
    archive_write_header(a, en);
    if (!e.dir) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(en);
  }
  archive_write_close(a);
  archive_write_free(a);
  return std::string(buf.data(), used);
}

inline const char* LayerMediaType(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "application/vnd.oci.image.layer.v1.tar";
    case Compression::kGzip:
      return "application/vnd.oci.image.layer.v1.tar+gzip";
    case Compression::kZstd:
      return "application/vnd.oci.image.layer.v1.tar+zstd";
  }
  return "";
}

// An OCI image layout directory being built.
class OciLayout {
 public:
  explicit OciLayout(std::string dir) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_ + "/blobs/sha256");
    Write(dir_ + "/oci-layout", R"({"imageLayoutVersion": "1.0.0"})");
  }

  // Stores a blob and returns its descriptor.
  nlohmann::json Blob(const std::string& data, const std::string& media_type) {
    const std::string digest = Sha256(data);
    Write(dir_ + "/blobs/sha256/" + digest.substr(7), data);
    return {{"mediaType", media_type}, {"digest", digest}, {"size", data.size()}};
  }

  // A manifest of `layers` (already compressed as `c`); returns its descriptor.
  nlohmann::json Manifest(const std::vector<std::string>& layers,
                          Compression c = Compression::kGzip) {
    nlohmann::json m = {{"schemaVersion", 2},
                        {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                        {"config", Blob(R"({"architecture":"amd64","os":"linux"})",
                                        "application/vnd.oci.image.config.v1+json")},
                        {"layers", nlohmann::json::array()}};
    for (const auto& l : layers) m["layers"].push_back(Blob(l, LayerMediaType(c)));
    return Blob(m.dump(), "application/vnd.oci.image.manifest.v1+json");
  }

  nlohmann::json Index(const std::vector<std::pair<nlohmann::json, std::string>>& by_arch) {
    nlohmann::json idx = {{"schemaVersion", 2},
                          {"mediaType", "application/vnd.oci.image.index.v1+json"},
                          {"manifests", nlohmann::json::array()}};
    for (auto [desc, arch] : by_arch) {
      desc["platform"] = {{"os", "linux"}, {"architecture", arch}};
      idx["manifests"].push_back(desc);
    }
    return Blob(idx.dump(), "application/vnd.oci.image.index.v1+json");
  }

  // index.json listing `desc` under the given annotations.
  void Top(std::vector<std::pair<nlohmann::json, nlohmann::json>> entries) {
    nlohmann::json idx = {{"schemaVersion", 2}, {"manifests", nlohmann::json::array()}};
    for (auto& [desc, annotations] : entries) {
      desc["annotations"] = annotations;
      idx["manifests"].push_back(desc);
    }
    Write(dir_ + "/index.json", idx.dump());
  }

  const std::string& dir() const { return dir_; }

  static void Write(const std::string& path, const std::string& data) {
    std::ofstream(path, std::ios::binary) << data;
  }

 private:
  std::string dir_;
};

// A qcow2-looking disk (QCOW2 magic first) of `n` bytes, different per `seed`.
// QCOW2's magic and a 64 MiB virtual size (big-endian at byte 24), then filler.
inline std::string FakeQcow2(size_t n, char seed) {
  std::string d = "QFI\xfb";
  while (d.size() < n) d += static_cast<char>(seed + d.size() % 7);
  if (d.size() >= 32) d.replace(24, 8, std::string("\0\0\0\0\x04\0\0\0", 8));
  return d;
}

}  // namespace k6t::testing
