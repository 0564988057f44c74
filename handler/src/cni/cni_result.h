// The JSON k6t-cni prints on success: the ADD result (the previous plugin's result, in the
// configuration's version, with the pod link appended when it does not list it) and
// VERSION's answer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cni/cni_config.h"

namespace k6t::handler::cni {

// `prev` converted to `cni_version` (0.3.x/0.4.0 IPs carry "version", 1.x ones do not) with
// `added` appended to its interfaces; the IPs keep pointing at the interfaces they did.
// Without `prev` (nothing chained before), a result listing only `added`.
std::string EncodeAddResult(std::string_view cni_version, const PrevResult* prev,
                            const std::vector<ResultInterface>& added);

// {"cniVersion": <requested or newest>, "supportedVersions": [...]}
std::string EncodeVersion(std::string_view requested);

}  // namespace k6t::handler::cni
