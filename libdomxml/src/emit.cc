// The emitter: libvirt's own layout (two-space indentation, attributes in single quotes,
// an element holding only text on one line, an empty one self-closed), so that a document
// k6t defines diffs cleanly against `virsh dumpxml`. libxml2's serializer writes double
// quotes and namespace declarations before attributes; the tests check that both read back
// as the same document (canonical XML).
#include <libxml/tree.h>

#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "k6t/domxml/xml.h"

namespace k6t::domxml {
namespace {

std::string_view Str(const xmlChar* s) {
  return s ? std::string_view(reinterpret_cast<const char*>(s)) : std::string_view();
}

// All five predefined entities everywhere (as libvirt does); in attributes also the
// whitespace a parser would otherwise normalise to spaces.
void Escape(std::string_view s, bool attribute, std::string& out) {
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\r':
        out += "&#13;";
        break;
      case '\n':
        out += attribute ? "&#10;" : "\n";
        break;
      case '\t':
        out += attribute ? "&#9;" : "\t";
        break;
      default:
        out += c;
    }
  }
}

// A namespace declaration's URI as written: libxml2 keeps the `&` of an escaped ampersand in
// a namespace URI as the character reference "&#38;" (not as `&`, as in attribute values), so
// writing its href escaped as it is would grow "&amp;#38;" at every round trip.
std::string NamespaceUri(std::string_view href) {
  std::string out;
  for (size_t i = 0; i < href.size(); ++i) {
    if (href.compare(i, 5, "&#38;") == 0) {
      out += '&';
      i += 4;
    } else {
      out += href[i];
    }
  }
  return out;
}

void QualifiedName(const xmlNode* n, std::string& out) {
  if (n->ns && n->ns->prefix) out.append(Str(n->ns->prefix)).append(":");
  out += Str(n->name);
}

bool IsText(const xmlNode* n) {
  return n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE;
}

bool IsBlank(const xmlNode* n) {
  if (!IsText(n)) return false;
  for (char c : Str(n->content))
    if (!absl::ascii_isspace(static_cast<unsigned char>(c))) return false;
  return true;
}

void EmitNode(const xmlNode* n, int depth, bool indent, std::string& out);

void EmitElement(const xmlNode* n, int depth, bool indent, std::string& out) {
  out += '<';
  QualifiedName(n, out);
  for (const xmlAttr* a = n->properties; a; a = a->next) {
    out += ' ';
    QualifiedName(reinterpret_cast<const xmlNode*>(a), out);
    out += "='";
    for (const xmlNode* v = a->children; v; v = v->next)
      if (IsText(v)) Escape(Str(v->content), /*attribute=*/true, out);
    out += '\'';
  }
  for (const xmlNs* ns = n->nsDef; ns; ns = ns->next) {
    out += " xmlns";
    if (ns->prefix) out.append(":").append(Str(ns->prefix));
    out += "='";
    Escape(NamespaceUri(Str(ns->href)), /*attribute=*/true, out);
    out += '\'';
  }
  // Whitespace between elements is layout (ParseXml drops it, and it is written anew);
  // within text, or text mixed with elements, it is content and written as it is.
  bool elements = false, text = false;
  for (const xmlNode* c = n->children; c; c = c->next) {
    if (!IsText(c))
      elements = true;
    else if (!IsBlank(c))
      text = true;
  }
  auto close = [&] {
    out += "</";
    QualifiedName(n, out);
    out += '>';
  };
  if (!n->children) {
    out += "/>";
  } else if (!elements || text || !indent) {
    out += '>';
    for (const xmlNode* c = n->children; c; c = c->next) EmitNode(c, 0, /*indent=*/false, out);
    close();
  } else {
    out += ">\n";
    for (const xmlNode* c = n->children; c; c = c->next)
      if (!IsBlank(c)) EmitNode(c, depth + 1, /*indent=*/true, out);
    out.append(2 * depth, ' ');
    close();
  }
}

void EmitNode(const xmlNode* n, int depth, bool indent, std::string& out) {
  if (indent) out.append(2 * depth, ' ');
  switch (n->type) {
    case XML_ELEMENT_NODE:
      EmitElement(n, depth, indent, out);
      break;
    case XML_TEXT_NODE:
    case XML_CDATA_SECTION_NODE:
      Escape(Str(n->content), /*attribute=*/false, out);
      break;
    case XML_COMMENT_NODE:
      out.append("<!--").append(Str(n->content)).append("-->");
      break;
    case XML_PI_NODE:
      out.append("<?").append(Str(n->name)).append(n->content ? " " : "");
      out.append(Str(n->content)).append("?>");
      break;
    case XML_ENTITY_REF_NODE:
      out.append("&").append(Str(n->name)).append(";");
      break;
    default:
      break;
  }
  if (indent) out += '\n';
}

}  // namespace

std::string Element::Emit() const {
  std::string out;
  if (node_) EmitNode(node_, 0, /*indent=*/true, out);
  return out;
}

std::string XmlDocument::Emit() const {
  std::string out;
  if (!doc_) return out;
  for (const xmlNode* n = doc_->children; n; n = n->next)
    if (n->type == XML_ELEMENT_NODE || n->type == XML_COMMENT_NODE || n->type == XML_PI_NODE)
      EmitNode(n, 0, /*indent=*/true, out);
  return out;
}

}  // namespace k6t::domxml
