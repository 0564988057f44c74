// Helpers shared by the api unit tests.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "k6t/api/decode.h"
#include "k6t/api/validate.h"

namespace k6t::api::testing {

inline std::string SourceDir() {
  const char* d = std::getenv("K6T_SOURCE_DIR");
  return d ? d : ".";
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline const std::vector<std::string>& ExampleNames() {
  static const std::vector<std::string> kNames = {"masquerade-ports.yaml",
                                                  "primary-udn-l2bridge.yaml",
                                                  "primary-and-secondary-udn.yaml",
                                                  "masquerade-bridge-vlan.yaml",
                                                  "sriov.yaml",
                                                  "passt.yaml",
                                                  "dual-stack-masquerade.yaml",
                                                  "quickstart.yaml"};
  return kNames;
}

inline std::vector<std::string> ErrorStrings(const std::vector<FieldError>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.ToString());
  return out;
}

}  // namespace k6t::api::testing
