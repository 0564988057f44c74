// Decoding VirtualMachine / VirtualMachineInstance manifests from YAML or JSON.
// YAML goes through yaml-cpp, JSON through nlohmann_json; both land in one model (vmi.h).
//
// Errors: InvalidArgument for syntax (line and column) and field errors (JSON paths),
// ResourceExhausted for a DecodeLimits bound; the *File calls also NotFound (cannot stat),
// PermissionDenied (cannot open) and DataLoss (read failed), with the path and errno text.
// Thread-safety: pure functions of their input, safe from any number of threads.
// Privileges: none; files are read with the caller's permissions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "k6t/api/errors.h"
#include "k6t/api/vmi.h"

namespace k6t::api {

// Any object of another kind found in a manifest (e.g. a NetworkAttachmentDefinition),
// kept as canonical JSON text so that tools such as the pod simulator can read it.
struct RawObject {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string namespace_;
  std::string json;
};

struct Manifest {
  std::vector<Vmi> vms;  // VirtualMachines and VirtualMachineInstances, in document order
  std::vector<RawObject> others;
  // Unknown fields are accepted like the API server does; each is reported here.
  std::vector<FieldError> warnings;
};

// Bounds on outside input. Exceeding one is an error naming the bound.
struct DecodeLimits {
  size_t max_bytes = 8 << 20;
  int max_depth = 64;
  size_t max_nodes = 1 << 20;  // after alias expansion: stops "billion laughs"
  size_t max_documents = 256;
};

// Decodes every document of `text` (JSON, or YAML with any number of `---` documents).
// `source` names the input in messages. Syntax errors carry line and column; type errors
// (a string where a number belongs, ...) are all reported, each with its JSON path, in a
// kInvalidArgument status whose message has one error per line. Defaults are applied
// (ApplyDefaults in validate.h) but validation is not.
absl::StatusOr<Manifest> DecodeManifest(std::string_view text, std::string_view source,
                                        const DecodeLimits& limits = {});

// DecodeManifest with the two kinds of failure kept apart, for tools that report both:
// `status` is set when the input cannot be read or parsed at all (syntax errors with line
// and column, limits, I/O); `errors` holds every field-level problem (wrong types, disks
// without a volume, ...), each with its JSON path, while `manifest` holds what could be
// decoded (with defaults applied).
struct DecodeReport {
  absl::Status status;
  Manifest manifest;
  std::vector<FieldError> errors;
};
DecodeReport DecodeManifestReport(std::string_view text, std::string_view source,
                                  const DecodeLimits& limits = {});
DecodeReport DecodeManifestFileReport(const std::string& path, const DecodeLimits& limits = {});

// Reads and decodes a file; a file larger than limits.max_bytes is refused before reading.
absl::StatusOr<Manifest> DecodeManifestFile(const std::string& path,
                                            const DecodeLimits& limits = {});

// Decodes a manifest that must contain exactly one VM.
absl::StatusOr<Vmi> DecodeSingleVmi(std::string_view text, std::string_view source);
absl::StatusOr<Vmi> DecodeSingleVmiFile(const std::string& path);

// Canonical JSON of a Vmi as a VirtualMachineInstance (what the RPC carries). Decoding it
// with DecodeSingleVmi gives back an equal model.
std::string EncodeVmiJson(const Vmi& vmi);

}  // namespace k6t::api
