#include "images/oci_manifest.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace k6t::launcher::images {
namespace {

using nlohmann::json;

bool IsSha256Digest(const std::string& d) {
  if (d.size() != 71 || d.compare(0, 7, "sha256:") != 0) return false;
  for (size_t i = 7; i < d.size(); ++i)
    if (!((d[i] >= '0' && d[i] <= '9') || (d[i] >= 'a' && d[i] <= 'f'))) return false;
  return true;
}

absl::StatusOr<json> ParseBounded(std::string_view text, std::string_view what) {
  if (text.size() > kMaxJsonBytes)
    return absl::ResourceExhaustedError(
        absl::StrCat(std::string(what), " is ", text.size(), " bytes; at most ", kMaxJsonBytes));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded())
    return absl::InvalidArgumentError(absl::StrCat(std::string(what), ": not JSON"));
  return j;
}

std::string Str(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

absl::StatusOr<Descriptor> DescriptorOf(const json& d, std::string_view where) {
  if (!d.is_object())
    return absl::InvalidArgumentError(absl::StrCat(std::string(where), ": not an object"));
  Descriptor out;
  out.media_type = Str(d, "mediaType");
  out.digest = Str(d, "digest");
  if (!IsSha256Digest(out.digest))
    return absl::InvalidArgumentError(absl::StrCat(std::string(where), ": digest \"",
                                                   out.digest.substr(0, 80),
                                                   "\" is not sha256:<64 hex digits>"));
  if (auto s = d.find("size"); s != d.end() && s->is_number_integer()) out.size = s->get<int64_t>();
  if (auto p = d.find("platform"); p != d.end() && p->is_object()) {
    out.os = Str(*p, "os");
    out.architecture = Str(*p, "architecture");
    out.variant = Str(*p, "variant");
  }
  if (auto a = d.find("annotations"); a != d.end() && a->is_object())
    for (const auto& [k, v] : a->items())
      if (v.is_string() && out.annotations.size() < 64) out.annotations[k] = v.get<std::string>();
  return out;
}

}  // namespace

absl::StatusOr<ImageDocument> ParseImageDocument(std::string_view text) {
  auto j = ParseBounded(text, "image index or manifest");
  if (!j.ok()) return j.status();
  if (!j->is_object()) return absl::InvalidArgumentError("image index or manifest: not an object");
  ImageDocument out;
  const std::string mt = Str(*j, "mediaType");
  out.is_index = mt == "application/vnd.oci.image.index.v1+json" ||
                 mt == "application/vnd.docker.distribution.manifest.list.v2+json" ||
                 (mt.empty() && j->contains("manifests"));
  if (out.is_index) {
    auto m = j->find("manifests");
    if (m == j->end() || !m->is_array())
      return absl::InvalidArgumentError("image index: no \"manifests\" list");
    if (m->size() > kMaxDescriptors)
      return absl::ResourceExhaustedError(
          absl::StrCat("image index: ", m->size(), " manifests; at most ", kMaxDescriptors));
    for (size_t i = 0; i < m->size(); ++i) {
      auto d = DescriptorOf((*m)[i], absl::StrCat("manifests[", i, "]"));
      if (!d.ok()) return d.status();
      out.manifests.push_back(std::move(*d));
    }
    return out;
  }
  auto c = j->find("config");
  if (c == j->end()) return absl::InvalidArgumentError("image manifest: no \"config\"");
  auto config = DescriptorOf(*c, "config");
  if (!config.ok()) return config.status();
  out.config = std::move(*config);
  auto l = j->find("layers");
  if (l == j->end() || !l->is_array())
    return absl::InvalidArgumentError("image manifest: no \"layers\" list");
  if (l->size() > kMaxLayers)
    return absl::ResourceExhaustedError(
        absl::StrCat("image manifest: ", l->size(), " layers; at most ", kMaxLayers));
  for (size_t i = 0; i < l->size(); ++i) {
    auto d = DescriptorOf((*l)[i], absl::StrCat("layers[", i, "]"));
    if (!d.ok()) return d.status();
    if (!IsSupportedLayerType(d->media_type))
      return absl::InvalidArgumentError(absl::StrCat("layers[", i, "]: media type \"",
                                                     d->media_type.substr(0, 100),
                                                     "\" is not a tar layer k6t can read"));
    out.layers.push_back(std::move(*d));
  }
  return out;
}

absl::StatusOr<Descriptor> PickAmd64(const std::vector<Descriptor>& manifests) {
  std::vector<std::string> seen;
  for (const Descriptor& d : manifests) {
    if (d.annotations.count("vnd.docker.reference.type")) continue;  // attestations
    if ((d.os.empty() && d.architecture.empty()) || (d.os == "linux" && d.architecture == "amd64"))
      return d;
    seen.push_back(absl::StrCat(d.os, "/", d.architecture));
  }
  return absl::NotFoundError(absl::StrCat("no linux/amd64 image in the index (it has ",
                                          seen.empty() ? "none" : absl::StrJoin(seen, ", "), ")"));
}

absl::StatusOr<std::vector<DockerArchiveImage>> ParseDockerArchiveManifest(std::string_view text) {
  auto j = ParseBounded(text, "manifest.json");
  if (!j.ok()) return j.status();
  if (!j->is_array()) return absl::InvalidArgumentError("manifest.json: not a list");
  if (j->size() > kMaxDescriptors)
    return absl::ResourceExhaustedError("manifest.json: too many images");
  std::vector<DockerArchiveImage> out;
  for (const json& e : *j) {
    if (!e.is_object())
      return absl::InvalidArgumentError("manifest.json: an entry is not an object");
    DockerArchiveImage img;
    img.config = Str(e, "Config");
    if (auto t = e.find("RepoTags"); t != e.end() && t->is_array())
      for (const json& tag : *t)
        if (tag.is_string()) img.repo_tags.push_back(tag.get<std::string>());
    auto l = e.find("Layers");
    if (l == e.end() || !l->is_array())
      return absl::InvalidArgumentError("manifest.json: an image has no \"Layers\" list");
    if (l->size() > kMaxLayers)
      return absl::ResourceExhaustedError(
          absl::StrCat("manifest.json: ", l->size(), " layers; at most ", kMaxLayers));
    for (const json& layer : *l) {
      if (!layer.is_string() || layer.get<std::string>().empty() ||
          layer.get<std::string>().size() > 4096)
        return absl::InvalidArgumentError("manifest.json: a layer is not a path");
      img.layers.push_back(layer.get<std::string>());
    }
    out.push_back(std::move(img));
  }
  return out;
}

absl::StatusOr<std::string> BlobPath(const std::string& digest) {
  if (!IsSha256Digest(digest))
    return absl::InvalidArgumentError(
        absl::StrCat("\"", digest.substr(0, 80), "\" is not sha256:<64 hex digits>"));
  return absl::StrCat("blobs/sha256/", digest.substr(7));
}

bool IsSupportedLayerType(const std::string& t) {
  static const char* const kTypes[] = {
      "application/vnd.oci.image.layer.v1.tar",
      "application/vnd.oci.image.layer.v1.tar+gzip",
      "application/vnd.oci.image.layer.v1.tar+zstd",
      "application/vnd.oci.image.layer.nondistributable.v1.tar",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
      "application/vnd.docker.image.rootfs.diff.tar.gzip",
      "application/vnd.docker.image.rootfs.diff.tar",
  };
  for (const char* k : kTypes)
    if (t == k) return true;
  return false;
}

}  // namespace k6t::launcher::images
