#include "domain_devices.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"

namespace k6t::launcher {
namespace {

std::string DecodeEntities(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '&') {
      out += v[i];
      continue;
    }
    static const std::pair<std::string_view, char> kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&apos;", '\''}, {"&quot;", '"'}};
    bool matched = false;
    for (const auto& [name, c] : kEntities) {
      if (v.substr(i, name.size()) == name) {
        out += c;
        i += name.size() - 1;
        matched = true;
        break;
      }
    }
    if (!matched) out += '&';
  }
  return out;
}

struct Tag {
  std::string name;
  std::map<std::string, std::string> attrs;
  bool closing = false;       // </name>
  bool self_closing = false;  // <name/>
  size_t begin = 0, end = 0;  // '<' .. one past '>'
};

// Next tag at or after `pos`; false at the end of the document or on malformed markup.
bool NextTag(std::string_view x, size_t* pos, Tag* tag, bool* malformed) {
  for (;;) {
    const size_t lt = x.find('<', *pos);
    if (lt == std::string_view::npos) return false;
    auto skip_to = [&](std::string_view terminator) {
      const size_t e = x.find(terminator, lt);
      if (e == std::string_view::npos) {
        *malformed = true;
        return false;
      }
      *pos = e + terminator.size();
      return true;
    };
    if (x.substr(lt, 4) == "<!--") {
      if (!skip_to("-->")) return false;
      continue;
    }
    if (x.substr(lt, 2) == "<?") {
      if (!skip_to("?>")) return false;
      continue;
    }
    if (x.substr(lt, 2) == "<!") {
      if (!skip_to(">")) return false;
      continue;
    }
    *tag = Tag{};
    tag->begin = lt;
    size_t i = lt + 1;
    if (i < x.size() && x[i] == '/') {
      tag->closing = true;
      ++i;
    }
    const size_t name_begin = i;
    while (i < x.size() && !std::isspace(static_cast<unsigned char>(x[i])) && x[i] != '>' &&
           x[i] != '/')
      ++i;
    tag->name = std::string(x.substr(name_begin, i - name_begin));
    for (;;) {
      while (i < x.size() && std::isspace(static_cast<unsigned char>(x[i]))) ++i;
      if (i >= x.size()) {
        *malformed = true;
        return false;
      }
      if (x[i] == '>') {
        ++i;
        break;
      }
      if (x[i] == '/' && i + 1 < x.size() && x[i + 1] == '>') {
        tag->self_closing = true;
        i += 2;
        break;
      }
      const size_t an = i;
      while (i < x.size() && x[i] != '=' && x[i] != '>' &&
             !std::isspace(static_cast<unsigned char>(x[i])))
        ++i;
      std::string key(x.substr(an, i - an));
      while (i < x.size() && std::isspace(static_cast<unsigned char>(x[i]))) ++i;
      if (i >= x.size() || x[i] != '=' || key.empty()) {
        *malformed = true;
        return false;
      }
      ++i;
      while (i < x.size() && std::isspace(static_cast<unsigned char>(x[i]))) ++i;
      if (i >= x.size() || (x[i] != '\'' && x[i] != '"')) {
        *malformed = true;
        return false;
      }
      const char quote = x[i++];
      const size_t close = x.find(quote, i);
      if (close == std::string_view::npos) {
        *malformed = true;
        return false;
      }
      tag->attrs[key] = DecodeEntities(x.substr(i, close - i));
      i = close + 1;
    }
    tag->end = i;
    *pos = i;
    return true;
  }
}

std::string Attr(const Tag& t, const char* key) {
  auto it = t.attrs.find(key);
  return it == t.attrs.end() ? "" : it->second;
}

}  // namespace

const LiveDevice* LiveDomain::FindAlias(std::string_view alias) const {
  for (const auto& d : devices)
    if (!alias.empty() && d.alias == alias) return &d;
  return nullptr;
}

absl::StatusOr<LiveDomain> ParseLiveDomain(std::string_view xml) {
  LiveDomain out;
  std::vector<std::string> stack;
  std::set<int> root_ports;
  std::set<int> used_buses;
  LiveDevice* current = nullptr;
  size_t device_depth = 0;
  size_t pos = 0;
  bool malformed = false;
  Tag t;
  bool saw_domain = false;
  while (NextTag(xml, &pos, &t, &malformed)) {
    if (t.closing) {
      if (stack.empty() || stack.back() != t.name)
        return absl::InvalidArgumentError(
            absl::StrCat("domain XML: unexpected </", t.name, "> at byte ", t.begin));
      stack.pop_back();
      if (current && stack.size() == device_depth) {
        current->end = t.end;
        current = nullptr;
      }
      continue;
    }
    const bool in_devices = stack.size() == 2 && stack[0] == "domain" && stack[1] == "devices";
    if (stack.empty() && t.name == "domain") saw_domain = true;
    if (in_devices && (t.name == "interface" || t.name == "hostdev")) {
      out.devices.push_back(LiveDevice{});
      current = &out.devices.back();
      current->kind = t.name;
      current->link_state = "up";
      current->begin = t.begin;
      current->end = t.end;
      device_depth = stack.size();
    } else if (in_devices && t.name == "controller" && Attr(t, "model") == "pcie-root-port") {
      root_ports.insert(std::atoi(Attr(t, "index").c_str()));
    } else if (current) {
      if (t.name == "mac") current->mac = Attr(t, "address");
      if (t.name == "target" && current->kind == "interface") current->target = Attr(t, "dev");
      if (t.name == "link") current->link_state = Attr(t, "state") == "down" ? "down" : "up";
      if (t.name == "model") current->model = Attr(t, "type");
      if (t.name == "alias") current->alias = Attr(t, "name");
      if (t.name == "driver" && !Attr(t, "queues").empty())
        current->queues = std::max(1, std::atoi(Attr(t, "queues").c_str()));
    }
    // A device's guest address (not the host address of a hostdev's <source>).
    if (t.name == "address" && Attr(t, "type") == "pci" && stack.size() >= 3 &&
        stack[1] == "devices" && stack.back() != "source") {
      const std::string bus = Attr(t, "bus");
      if (!bus.empty()) used_buses.insert(static_cast<int>(std::strtol(bus.c_str(), nullptr, 0)));
    }
    if (!t.self_closing) {
      stack.push_back(t.name);
    } else if (current && stack.size() == device_depth) {
      current = nullptr;  // <interface/> with no children
    }
  }
  if (malformed || !saw_domain || !stack.empty())
    return absl::InvalidArgumentError("domain XML: not a well-formed <domain> document");
  out.root_ports = static_cast<int>(root_ports.size());
  for (int index : root_ports)
    if (!used_buses.count(index)) ++out.free_root_ports;
  return out;
}

std::string FragmentAlias(std::string_view fragment) {
  size_t pos = 0;
  bool malformed = false;
  Tag t;
  while (NextTag(fragment, &pos, &t, &malformed))
    if (!t.closing && t.name == "alias") return Attr(t, "name");
  return "";
}

std::string WithLinkState(std::string_view element, bool up) {
  std::string out;
  size_t pos = 0, copied = 0;
  bool malformed = false;
  Tag t;
  size_t close_at = std::string_view::npos;
  while (NextTag(element, &pos, &t, &malformed)) {
    if (t.name == "link" && !t.closing) {
      out.append(element.substr(copied, t.begin - copied));
      const size_t close = t.self_closing ? std::string_view::npos : element.find("</link>", t.end);
      copied = close == std::string_view::npos ? t.end : close + 7;
      pos = copied;
    } else if (t.closing && (t.name == "interface")) {
      close_at = t.begin;
    }
  }
  if (close_at == std::string_view::npos || close_at < copied) return std::string(element);
  out.append(element.substr(copied, close_at - copied));
  absl::StrAppend(&out, "<link state='", up ? "up" : "down", "'/>");
  out.append(element.substr(close_at));
  return out;
}

}  // namespace k6t::launcher
