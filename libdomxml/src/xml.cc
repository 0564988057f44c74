#include "k6t/domxml/xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace k6t::domxml {
namespace {

// libxml2 fails only to allocate; so does operator new, and the process ends then too.
template <typename T>
T* Allocated(T* p) {
  if (p == nullptr) {
    std::fputs("k6t: libxml2 could not allocate memory\n", stderr);
    std::abort();
  }
  return p;
}

const xmlChar* X(const std::string& s) { return reinterpret_cast<const xmlChar*>(s.c_str()); }

std::string Str(const xmlChar* s) { return s ? reinterpret_cast<const char*>(s) : ""; }

// A string libxml2 allocated, freed with xmlFree.
std::string Take(xmlChar* s) {
  std::string out = Str(s);
  if (s) xmlFree(s);
  return out;
}

void InitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
}

std::string QualifiedName(const xmlNode* n) {
  if (n->ns && n->ns->prefix) return absl::StrCat(Str(n->ns->prefix), ":", Str(n->name));
  return Str(n->name);
}

}  // namespace

Element Element::Add(std::string_view name) {
  if (!node_) return Element();
  const std::string qname(name);
  xmlNs* ns = nullptr;
  std::string local = qname;
  if (size_t colon = qname.find(':'); colon != std::string::npos) {
    ns = xmlSearchNs(node_->doc, node_, X(qname.substr(0, colon)));
    if (ns) local = qname.substr(colon + 1);
  }
  xmlNode* child = Allocated(xmlNewDocNode(node_->doc, ns, X(local), nullptr));
  return Element(xmlAddChild(node_, child));
}

Element Element::Add(std::string_view name, std::string_view text) {
  Element e = Add(name);
  if (e) {
    xmlNode* t = Allocated(xmlNewDocTextLen(
        node_->doc, reinterpret_cast<const xmlChar*>(text.data()), static_cast<int>(text.size())));
    xmlAddChild(e.node_, t);
  }
  return e;
}

Element& Element::Set(std::string_view attribute, std::string_view value) {
  // xmlSetProp takes the value as text (no entity references are parsed in it).
  if (node_) Allocated(xmlSetProp(node_, X(std::string(attribute)), X(std::string(value))));
  return *this;
}

Element& Element::Set(std::string_view attribute, int64_t value) {
  return Set(attribute, absl::StrCat(value));
}

Element& Element::DeclareNamespace(std::string_view prefix, std::string_view uri) {
  if (!node_) return *this;
  const std::string p(prefix);
  for (xmlNs* ns = node_->nsDef; ns; ns = ns->next)
    if (Str(ns->prefix) == p) return *this;
  Allocated(xmlNewNs(node_, X(std::string(uri)), p.empty() ? nullptr : X(p)));
  return *this;
}

Element Element::AddCopy(const Element& other) {
  if (!node_ || !other.node_) return Element();
  xmlNode* copy = Allocated(xmlDocCopyNode(other.node_, node_->doc, /*recursive=*/1));
  return Element(xmlAddChild(node_, copy));
}

void Element::Remove() {
  if (!node_) return;
  xmlUnlinkNode(node_);
  xmlFreeNode(node_);
  node_ = nullptr;
}

Element Element::ReplaceWithCopy(const Element& other) {
  if (!node_ || !other.node_) return Element();
  xmlNode* copy = Allocated(xmlDocCopyNode(other.node_, node_->doc, /*recursive=*/1));
  xmlReplaceNode(node_, copy);
  xmlFreeNode(node_);
  node_ = nullptr;
  return Element(copy);
}

std::string Element::name() const { return node_ ? QualifiedName(node_) : ""; }

std::string Element::Attr(std::string_view attribute) const {
  if (!node_) return "";
  return Take(xmlGetProp(node_, X(std::string(attribute))));
}

bool Element::HasAttr(std::string_view attribute) const {
  return node_ && xmlHasProp(node_, X(std::string(attribute))) != nullptr;
}

std::string Element::Text() const { return node_ ? Take(xmlNodeGetContent(node_)) : ""; }

Element Element::Child(std::string_view name) const {
  if (!node_) return Element();
  for (xmlNode* c = node_->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE && QualifiedName(c) == name) return Element(c);
  return Element();
}

std::vector<Element> Element::Children(std::string_view name) const {
  std::vector<Element> out;
  if (!node_) return out;
  for (xmlNode* c = node_->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE && (name.empty() || QualifiedName(c) == name))
      out.push_back(Element(c));
  return out;
}

Element Element::Parent() const {
  if (!node_ || !node_->parent || node_->parent->type != XML_ELEMENT_NODE) return Element();
  return Element(node_->parent);
}

XmlDocument::XmlDocument(std::string_view root) {
  InitOnce();
  doc_.reset(Allocated(xmlNewDoc(reinterpret_cast<const xmlChar*>("1.0"))));
  xmlNode* r = Allocated(xmlNewDocNode(doc_.get(), nullptr, X(std::string(root)), nullptr));
  xmlDocSetRootElement(doc_.get(), r);
}

XmlDocument::~XmlDocument() = default;

void XmlDocument::Free::operator()(_xmlDoc* doc) const { xmlFreeDoc(doc); }

Element XmlDocument::root() const {
  return doc_ ? Element(xmlDocGetRootElement(doc_.get())) : Element();
}

absl::StatusOr<XmlDocument> ParseXml(std::string_view text, std::string_view what) {
  InitOnce();
  auto refuse = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(what), ": ", why));
  };
  if (text.size() > kMaxXmlBytes)
    return refuse(absl::StrCat("larger than ", kMaxXmlBytes, " bytes"));
  // Refused before parsing, so that libxml2 never reads a DTD's entity declarations.
  if (text.find("<!DOCTYPE") != std::string_view::npos)
    return refuse("has a DTD (<!DOCTYPE>); none is read");
  std::unique_ptr<xmlParserCtxt, void (*)(xmlParserCtxt*)> ctxt(Allocated(xmlNewParserCtxt()),
                                                                xmlFreeParserCtxt);
  xmlDoc* doc =
      xmlCtxtReadMemory(ctxt.get(), text.data(), static_cast<int>(text.size()), /*URL=*/nullptr,
                        /*encoding=*/nullptr,
                        XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA |
                            XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (!doc) {
    const xmlError* e = xmlCtxtGetLastError(ctxt.get());
    if (!e || !e->message) return refuse("not well-formed XML");
    return refuse(absl::StrCat("not well-formed XML (line ", e->line, ": ",
                               absl::StripAsciiWhitespace(e->message), ")"));
  }
  XmlDocument out(doc);
  if (doc->intSubset || doc->extSubset) return refuse("has a DTD; none is read");
  if (!out.root()) return refuse("has no root element");
  return out;
}

}  // namespace k6t::domxml
