#include "k6t/api/decode.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "decode_vmi.h"
#include "document_parser.h"
#include "json_reader.h"
#include "k6t/api/validate.h"
#include "spdlog/spdlog.h"

namespace k6t::api {
namespace {

using internal::JoinPath;
using nlohmann::json;

bool IsKubeVirtVm(const json& doc) {
  const std::string kind = doc.value("kind", "");
  if (kind != "VirtualMachine" && kind != "VirtualMachineInstance") return false;
  const auto it = doc.find("apiVersion");
  if (it == doc.end() || !it->is_string()) return true;  // reported as a type error later
  return it->get<std::string>().rfind("kubevirt.io/", 0) == 0;
}

std::string StringField(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

void DecodeObject(const json& doc, const std::string& path, const std::string& source,
                  internal::JsonReader& r, DecodeReport& out, int list_depth) {
  if (!doc.is_object()) {
    r.TypeError(path.empty() ? "(document)" : path, "an object (a Kubernetes manifest)", doc);
    return;
  }
  const auto kind = doc.find("kind");
  if (kind == doc.end() || !kind->is_string() || kind->get<std::string>().empty()) {
    r.Error(JoinPath(path, "kind"), kind == doc.end() ? "required"
                                                      : "expected a non-empty string, got " +
                                                            internal::DescribeJson(*kind));
    return;
  }
  const std::string k = kind->get<std::string>();
  if (k == "List" || (k.size() > 4 && k.ends_with("List") && doc.contains("items"))) {
    const json* items = r.Array(doc, "items", path);
    if (!items) return;
    if (list_depth > 0) {
      r.Error(JoinPath(path, "items"), "lists inside lists are not supported");
      return;
    }
    for (size_t i = 0; i < items->size(); ++i)
      DecodeObject((*items)[i], internal::IndexPath(JoinPath(path, "items"), i), source, r, out,
                   list_depth + 1);
    return;
  }
  if (IsKubeVirtVm(doc)) {
    Vmi vmi = internal::DecodeVmiObject(doc, path, r);
    vmi.source = source;
    ApplyDefaults(vmi);
    out.manifest.vms.push_back(std::move(vmi));
    return;
  }
  RawObject raw;
  raw.api_version = StringField(doc, "apiVersion");
  raw.kind = k;
  if (auto m = doc.find("metadata"); m != doc.end() && m->is_object()) {
    raw.name = StringField(*m, "name");
    raw.namespace_ = StringField(*m, "namespace");
  }
  if (raw.namespace_.empty()) raw.namespace_ = "default";
  raw.json = doc.dump(-1, ' ', false, json::error_handler_t::replace);
  out.manifest.others.push_back(std::move(raw));
}

}  // namespace

DecodeReport DecodeManifestReport(std::string_view text, std::string_view source,
                                  const DecodeLimits& limits) {
  DecodeReport out;
  const std::string src(source);
  auto docs = internal::ParseDocuments(text, limits);
  if (!docs.ok()) {
    out.status =
        absl::Status(docs.status().code(), absl::StrCat(src, ": ", docs.status().message()));
    return out;
  }
  if (docs->empty()) {
    out.status = absl::InvalidArgumentError(absl::StrCat(src, ": no documents (empty input)"));
    return out;
  }
  internal::JsonReader reader(&out.errors, &out.manifest.warnings);
  for (const json& doc : *docs) DecodeObject(doc, "", src, reader, out, 0);
  spdlog::debug("decoded {}: {} VM(s), {} other object(s), {} error(s), {} warning(s)", src,
                out.manifest.vms.size(), out.manifest.others.size(), out.errors.size(),
                out.manifest.warnings.size());
  return out;
}

DecodeReport DecodeManifestFileReport(const std::string& path, const DecodeLimits& limits) {
  DecodeReport out;
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    out.status = absl::NotFoundError(absl::StrCat(path, ": cannot stat: ", std::strerror(errno)));
    return out;
  }
  if (S_ISDIR(st.st_mode)) {
    out.status = absl::InvalidArgumentError(absl::StrCat(path, ": is a directory"));
    return out;
  }
  if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) > limits.max_bytes) {
    out.status = absl::ResourceExhaustedError(absl::StrCat(path, ": file is ", st.st_size,
                                                           " bytes, more than the limit of ",
                                                           limits.max_bytes, " (max_bytes)"));
    return out;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    out.status =
        absl::PermissionDeniedError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
    return out;
  }
  // Read at most one byte past the bound: pipes and /proc files have no size to check first.
  // Grown chunk by chunk rather than allocated at the bound: zero-filling 8 MiB for a 2 KiB
  // manifest was a third of a CLI call's time.
  std::string text;
  if (S_ISREG(st.st_mode)) text.reserve(static_cast<size_t>(st.st_size) + 1);
  char chunk[64 * 1024];
  while (text.size() <= limits.max_bytes && in) {
    const size_t want = std::min(sizeof chunk, limits.max_bytes + 1 - text.size());
    in.read(chunk, static_cast<std::streamsize>(want));
    text.append(chunk, static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) {
    out.status = absl::DataLossError(absl::StrCat(path, ": read failed: ", std::strerror(errno)));
    return out;
  }
  return DecodeManifestReport(text, path, limits);
}

namespace {
absl::StatusOr<Manifest> FromReport(DecodeReport r) {
  if (!r.status.ok()) return r.status;
  if (!r.errors.empty()) return ErrorsToStatus(r.errors);
  return std::move(r.manifest);
}

absl::StatusOr<Vmi> Single(absl::StatusOr<Manifest> m, std::string_view source) {
  if (!m.ok()) return m.status();
  if (m->vms.size() != 1)
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(source), ": expected exactly one ",
                     "VirtualMachine or VirtualMachineInstance, found ", m->vms.size()));
  return std::move(m->vms.front());
}
}  // namespace

absl::StatusOr<Manifest> DecodeManifest(std::string_view text, std::string_view source,
                                        const DecodeLimits& limits) {
  return FromReport(DecodeManifestReport(text, source, limits));
}

absl::StatusOr<Manifest> DecodeManifestFile(const std::string& path, const DecodeLimits& limits) {
  return FromReport(DecodeManifestFileReport(path, limits));
}

absl::StatusOr<Vmi> DecodeSingleVmi(std::string_view text, std::string_view source) {
  return Single(DecodeManifest(text, source), source);
}

absl::StatusOr<Vmi> DecodeSingleVmiFile(const std::string& path) {
  return Single(DecodeManifestFile(path), path);
}

}  // namespace k6t::api
