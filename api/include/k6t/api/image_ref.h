// Container image references ("quay.io/containerdisks/fedora:40", "busybox",
// "registry:5000/k/disk@sha256:...") parsed and normalised the way container runtimes do:
// a first path component without '.', ':' or "localhost" is a Docker Hub repository
// (docker.io, with "library/" for a single component), and a reference without tag or
// digest means ":latest". Used by validation and by the launcher's image store, so that
// "fedora" and "docker.io/library/fedora:latest" name the same image.
//
// Errors: InvalidArgument naming the part that is malformed. Pure functions: thread-safe,
// no privileges.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace k6t::api {

struct ImageReference {
  std::string domain;      // "docker.io", "quay.io", "registry:5000", "localhost"
  std::string repository;  // "library/busybox", "containerdisks/fedora"
  std::string tag;         // "latest" when neither tag nor digest was given
  std::string digest;      // "sha256:<64 hex>" or empty

  // "docker.io/library/busybox:latest", "quay.io/k/d@sha256:..." (tag and digest both
  // when both were given).
  std::string Canonical() const;
  // domain/repository without tag or digest.
  std::string Name() const;

  bool operator==(const ImageReference&) const = default;
};

// At most 255 characters of normalised name (domain/repository), 128 of tag; lowercase repository
// components.
absl::StatusOr<ImageReference> ParseImageReference(std::string_view ref);

}  // namespace k6t::api
