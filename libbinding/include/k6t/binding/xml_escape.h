// Escaping text for libvirt XML attributes and elements (&, <, >, ', "). Pure, cannot fail,
// thread-safe, no privileges.
#pragma once

#include <string>

namespace k6t::binding {

std::string XmlEscape(const std::string& s);

}  // namespace k6t::binding
