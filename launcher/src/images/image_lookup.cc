#include "images/image_lookup.h"

#include <algorithm>
#include <filesystem>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "images/digest.h"
#include "images/oci_manifest.h"

namespace k6t::launcher::images {
namespace {

namespace fs = std::filesystem;

constexpr char kRefName[] = "org.opencontainers.image.ref.name";
constexpr char kContainerdName[] = "io.containerd.image.name";

// The store entry's name without archive extensions: "fedora.tar.gz" -> "fedora".
std::string Stem(const fs::path& p) {
  std::string name = p.filename().string();
  for (const char* ext : {".tar.gz", ".tar.zst", ".tgz", ".tar"})
    if (absl::EndsWith(name, ext)) return name.substr(0, name.size() - strlen(ext));
  return name;
}

bool IsBareTag(const std::string& s) {
  return !s.empty() && s.find('/') == std::string::npos && s.find(':') == std::string::npos &&
         s.find('@') == std::string::npos;
}

// Whether a name annotation (or RepoTag) of an image in store entry `stem` names `ref`.
bool NameMatches(const std::string& name, const std::string& stem, const api::ImageReference& ref) {
  if (IsBareTag(name)) {
    const std::string last = ref.repository.substr(ref.repository.rfind('/') + 1);
    return name == ref.tag && (stem == last || stem == ref.repository);
  }
  auto parsed = api::ParseImageReference(name);
  if (!parsed.ok()) return false;
  if (!ref.digest.empty()) return parsed->Name() == ref.Name();
  return parsed->Name() == ref.Name() && parsed->tag == ref.tag;
}

absl::StatusOr<std::string> ReadBlob(BlobSource& src, const std::string& digest) {
  auto path = BlobPath(digest);
  if (!path.ok()) return path.status();
  auto data = src.ReadSmall(*path, kMaxJsonBytes);
  if (!data.ok()) return data.status();
  if (Sha256Digest(*data) != digest)
    return absl::DataLossError(
        absl::StrCat(src.Describe(), ": ", *path, " does not match its digest"));
  return data;
}

// Index or manifest at `digest` down to a manifest's layers (an index may nest one level).
absl::StatusOr<LocatedImage> FromManifest(std::unique_ptr<BlobSource> src, Descriptor d) {
  for (int depth = 0; depth < 3; ++depth) {
    auto text = ReadBlob(*src, d.digest);
    if (!text.ok()) return text.status();
    auto doc = ParseImageDocument(*text);
    if (!doc.ok())
      return absl::InvalidArgumentError(
          absl::StrCat(src->Describe(), ": ", d.digest, ": ", doc.status().message()));
    if (doc->is_index) {
      auto pick = PickAmd64(doc->manifests);
      if (!pick.ok()) return pick.status();
      d = *pick;
      continue;
    }
    LocatedImage out;
    out.digest = d.digest;
    for (const Descriptor& l : doc->layers) {
      auto path = BlobPath(l.digest);
      if (!path.ok()) return path.status();
      out.layers.push_back({*path, l.digest});
    }
    out.source = std::move(src);
    return out;
  }
  return absl::InvalidArgumentError("image indexes nested too deep");
}

// An OCI layout (dir or archive): its index.json entry for `ref`, if any.
absl::StatusOr<std::optional<Descriptor>> FindInIndex(BlobSource& src, const std::string& stem,
                                                      const api::ImageReference& ref,
                                                      std::vector<std::string>& names) {
  auto text = src.ReadSmall("index.json", kMaxJsonBytes);
  if (!text.ok()) return text.status();
  auto index = ParseImageDocument(*text);
  if (!index.ok())
    return absl::InvalidArgumentError(
        absl::StrCat(src.Describe(), ": index.json: ", index.status().message()));
  for (const Descriptor& d : index->manifests) {
    bool match = !ref.digest.empty() && d.digest == ref.digest;
    for (const char* key : {kContainerdName, kRefName}) {
      auto it = d.annotations.find(key);
      if (it == d.annotations.end()) continue;
      names.push_back(IsBareTag(it->second) ? stem + ":" + it->second : it->second);
      if (NameMatches(it->second, stem, ref) && (ref.digest.empty() || d.digest == ref.digest))
        match = true;
    }
    if (match) return std::optional<Descriptor>(d);
  }
  return std::optional<Descriptor>();
}

absl::StatusOr<std::optional<LocatedImage>> FromDockerArchive(std::unique_ptr<BlobSource>& src,
                                                              const api::ImageReference& ref,
                                                              std::vector<std::string>& names) {
  auto text = src->ReadSmall("manifest.json", kMaxJsonBytes);
  if (!text.ok()) return text.status();
  auto images = ParseDockerArchiveManifest(*text);
  if (!images.ok())
    return absl::InvalidArgumentError(
        absl::StrCat(src->Describe(), ": manifest.json: ", images.status().message()));
  for (const DockerArchiveImage& img : *images) {
    bool match = false;
    for (const std::string& tag : img.repo_tags) {
      names.push_back(tag);
      match |= ref.digest.empty() && NameMatches(tag, "", ref) && !IsBareTag(tag);
    }
    if (!match) continue;
    auto config = src->ReadSmall(img.config, kMaxJsonBytes);
    if (!config.ok()) return config.status();
    LocatedImage out;
    out.digest = Sha256Digest(*config);
    for (const std::string& l : img.layers) {
      // Newer archives keep layers as content-addressed blobs: check those.
      std::string digest;
      if (absl::StartsWith(l, "blobs/sha256/") && l.size() == 13 + 64)
        digest = "sha256:" + l.substr(13);
      out.layers.push_back({l, digest});
    }
    out.source = std::move(src);
    return std::optional<LocatedImage>(std::move(out));
  }
  return std::optional<LocatedImage>();
}

}  // namespace

absl::StatusOr<LocatedImage> LocateImage(const std::string& store_dir,
                                         const api::ImageReference& ref) {
  std::error_code ec;
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(store_dir, ec))
    if (e.path().filename().string()[0] != '.') entries.push_back(e.path());
  if (ec)
    return absl::NotFoundError(absl::StrCat(ref.Canonical(), ": cannot read the image store ",
                                            store_dir, ": ", ec.message()));
  std::sort(entries.begin(), entries.end());
  std::vector<std::string> names;
  for (const fs::path& p : entries) {
    const std::string stem = Stem(p);
    std::unique_ptr<BlobSource> src;
    if (fs::is_directory(p, ec) && fs::exists(p / "oci-layout", ec)) {
      src = OpenLayoutDir(p.string());
    } else if (fs::is_regular_file(p, ec) && Stem(p) != p.filename().string()) {
      src = OpenArchive(p.string());
    } else {
      continue;
    }
    auto in_index = FindInIndex(*src, stem, ref, names);
    if (in_index.ok() && in_index->has_value()) return FromManifest(std::move(src), **in_index);
    if (in_index.ok()) continue;
    if (!absl::IsNotFound(in_index.status())) return in_index.status();
    // No index.json: a docker archive.
    auto docker = FromDockerArchive(src, ref, names);
    if (docker.ok() && docker->has_value()) return std::move(**docker);
    if (!docker.ok() && !absl::IsNotFound(docker.status())) return docker.status();
  }
  return absl::NotFoundError(
      absl::StrCat(ref.Canonical(), " not found in the image store ", store_dir,
                   " (images there: ", names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
}

}  // namespace k6t::launcher::images
