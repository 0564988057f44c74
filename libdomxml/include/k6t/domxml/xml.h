// libxml2 behind two small types: XmlDocument owns a tree (freed with it), Element is a
// handle to one of its elements that builds and reads it. ParseXml reads a document;
// Emit() writes one as libvirt itself does (no XML declaration, two-space indentation,
// attributes in single quotes, text-only elements on one line), so what k6t defines reads
// like what `virsh dumpxml` shows.
//
// Errors: ParseXml returns InvalidArgument naming `what`, with libxml2's line and message
// (not well-formed, a DTD, too large, no root element). Building cannot fail: libxml2 only
// fails to allocate, and the process aborts then as on any other allocation failure.
// Thread-safety: a document and its elements are used by one thread at a time; different
// documents may be used concurrently. Privileges: none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

struct _xmlNode;
struct _xmlDoc;

namespace k6t::domxml {

// A handle to an element of an XmlDocument, valid while that document lives and the element
// is in it. A null handle (Child() of something absent) reads as empty and ignores writes.
class Element {
 public:
  Element() = default;
  explicit operator bool() const { return node_ != nullptr; }

  // ---- Building. Names may be "prefix:local" for a namespace declared on this element or
  // an ancestor (DeclareNamespace); values are plain text (escaped when emitted).
  Element Add(std::string_view name);
  Element Add(std::string_view name, std::string_view text);  // <name>text</name>
  Element& Set(std::string_view attribute, std::string_view value);
  Element& Set(std::string_view attribute, int64_t value);
  // xmlns:prefix='uri' on this element, unless the prefix is already declared here.
  Element& DeclareNamespace(std::string_view prefix, std::string_view uri);
  // Appends a deep copy of `other`, which may belong to another document.
  Element AddCopy(const Element& other);
  // Takes this element (and its subtree) out of its document and frees it; *this is null.
  void Remove();
  // Puts a deep copy of `other` (which may belong to another document) where this element
  // is, frees this element (*this is null) and returns the copy.
  Element ReplaceWithCopy(const Element& other);

  // ---- Reading.
  std::string name() const;                            // qualified: "interface", "qemu:commandline"
  std::string Attr(std::string_view attribute) const;  // "" when absent
  bool HasAttr(std::string_view attribute) const;
  std::string Text() const;                    // all text inside, concatenated
  Element Child(std::string_view name) const;  // the first child element so named
  std::vector<Element> Children(std::string_view name = {}) const;  // all when name is ""
  Element Parent() const;                                           // null for the root

  // This element and its subtree as XmlDocument::Emit writes them (ends with a newline).
  std::string Emit() const;

 private:
  friend class XmlDocument;
  explicit Element(_xmlNode* node) : node_(node) {}
  _xmlNode* node_ = nullptr;
};

class XmlDocument {
 public:
  // A document holding one empty root element named `root`.
  explicit XmlDocument(std::string_view root);
  XmlDocument(XmlDocument&&) noexcept = default;
  XmlDocument& operator=(XmlDocument&&) noexcept = default;
  ~XmlDocument();

  Element root() const;
  // The document in libvirt's style, ending with a newline.
  std::string Emit() const;

 private:
  friend absl::StatusOr<XmlDocument> ParseXml(std::string_view text, std::string_view what);
  struct Free {
    void operator()(_xmlDoc* doc) const;
  };
  explicit XmlDocument(_xmlDoc* doc) : doc_(doc) {}
  std::unique_ptr<_xmlDoc, Free> doc_;
};

inline constexpr size_t kMaxXmlBytes = 16 << 20;

// A whole document: no network access, no DTD (a document with one is refused, so no
// entity is ever expanded), at most kMaxXmlBytes; whitespace between elements is dropped.
absl::StatusOr<XmlDocument> ParseXml(std::string_view text, std::string_view what);

}  // namespace k6t::domxml
