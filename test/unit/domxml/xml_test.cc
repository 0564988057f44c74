// The libxml2 wrapper and its emitter. The emitter writes libvirt's layout itself (libxml2's
// serializer has no single-quote mode), so these tests hold it to libxml2: whatever it
// writes reads back, through libxml2's parser, as the same document (canonical XML) as what
// libxml2's own serializer writes for that tree.
#include "k6t/domxml/xml.h"

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace k6t::domxml {
namespace {

using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Canonical XML (C14N 1.0, no comments) of `text` as libxml2 reads it, blanks between
// elements dropped as ParseXml drops them.
std::string Canonical(const std::string& text) {
  xmlDoc* doc = xmlReadMemory(text.data(), static_cast<int>(text.size()), nullptr, nullptr,
                              XML_PARSE_NONET | XML_PARSE_NOBLANKS);
  EXPECT_NE(doc, nullptr) << text;
  if (!doc) return "";
  xmlChar* out = nullptr;
  int n = xmlC14NDocDumpMemory(doc, nullptr, XML_C14N_1_0, nullptr, 0, &out);
  std::string c = n >= 0 ? std::string(reinterpret_cast<char*>(out), n) : "";
  xmlFree(out);
  xmlFreeDoc(doc);
  return c;
}

// libxml2's own serializer of `text` (parsed the same way).
std::string Libxml2Serialized(const std::string& text) {
  xmlDoc* doc = xmlReadMemory(text.data(), static_cast<int>(text.size()), nullptr, nullptr,
                              XML_PARSE_NONET | XML_PARSE_NOBLANKS);
  EXPECT_NE(doc, nullptr);
  if (!doc) return "";
  xmlChar* out = nullptr;
  int n = 0;
  xmlDocDumpFormatMemory(doc, &out, &n, 1);
  std::string s(reinterpret_cast<char*>(out), n);
  xmlFree(out);
  xmlFreeDoc(doc);
  return s;
}

// The same document, whoever wrote it; and emitting what was emitted changes nothing.
void ExpectSameDocumentAsLibxml2(const std::string& text) {
  auto doc = ParseXml(text, "test");
  ASSERT_TRUE(doc.ok()) << doc.status();
  const std::string ours = doc->Emit();
  EXPECT_EQ(Canonical(ours), Canonical(Libxml2Serialized(text))) << ours;
  EXPECT_EQ(Canonical(ours), Canonical(text));
  auto again = ParseXml(ours, "test");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->Emit(), ours);
}

TEST(XmlDocumentTest, EmitsLibvirtsLayout) {
  XmlDocument doc("domain");
  Element root = doc.root();
  root.Set("type", "qemu");
  root.Add("name", "default_vm");
  root.Add("memory", "262144").Set("unit", "KiB");
  Element features = root.Add("features");
  features.Add("acpi");
  features.Add("apic");
  root.Add("devices").Add("interface").Set("type", "ethernet").Add("target").Set("dev", "tap0");
  EXPECT_EQ(doc.Emit(),
            "<domain type='qemu'>\n"
            "  <name>default_vm</name>\n"
            "  <memory unit='KiB'>262144</memory>\n"
            "  <features>\n"
            "    <acpi/>\n"
            "    <apic/>\n"
            "  </features>\n"
            "  <devices>\n"
            "    <interface type='ethernet'>\n"
            "      <target dev='tap0'/>\n"
            "    </interface>\n"
            "  </devices>\n"
            "</domain>\n");
  EXPECT_EQ(root.Child("devices").Child("interface").Emit(),
            "<interface type='ethernet'>\n  <target dev='tap0'/>\n</interface>\n");
}

TEST(XmlDocumentTest, TextAndAttributesReadBackExactly) {
  const std::string nasty = "a='b' \"c\" <d> & e\tf\ng\rh";
  XmlDocument doc("domain");
  doc.root().Set("v", nasty);
  doc.root().Add("cmdline", nasty);
  const std::string text = doc.Emit();
  EXPECT_THAT(text, HasSubstr("<cmdline>a=&apos;b&apos; &quot;c&quot; &lt;d&gt; &amp; e\tf\ng"
                              "&#13;h</cmdline>"));
  EXPECT_THAT(text, HasSubstr("v='a=&apos;b&apos; &quot;c&quot; &lt;d&gt; &amp; e&#9;f&#10;g"
                              "&#13;h'"));
  auto back = ParseXml(text, "test");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->root().Attr("v"), nasty);
  EXPECT_EQ(back->root().Child("cmdline").Text(), nasty);
  ExpectSameDocumentAsLibxml2(text);
}

TEST(XmlDocumentTest, NamespacesDeclaredAfterTheAttributes) {
  XmlDocument doc("domain");
  Element root = doc.root();
  root.Set("type", "qemu");
  root.DeclareNamespace("qemu", "http://libvirt.org/schemas/domain/qemu/1.0");
  root.DeclareNamespace("qemu", "http://libvirt.org/schemas/domain/qemu/1.0");  // once only
  root.Add("qemu:commandline").Add("qemu:arg").Set("value", "-netdev");
  const std::string text = doc.Emit();
  EXPECT_EQ(text,
            "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
            "  <qemu:commandline>\n"
            "    <qemu:arg value='-netdev'/>\n"
            "  </qemu:commandline>\n"
            "</domain>\n");
  EXPECT_EQ(root.Child("qemu:commandline").Children("qemu:arg").size(), 1u);
  ExpectSameDocumentAsLibxml2(text);
}

// libxml2 keeps an escaped `&` in a namespace URI as "&#38;": written as `&amp;`, not as
// "&amp;#38;" that would grow at every round trip (found by the domain_xml fuzz target).
TEST(XmlDocumentTest, AnAmpersandInANamespaceUriSurvivesRoundTrips) {
  ExpectSameDocumentAsLibxml2("<d xmlns:q='urn&amp;b&#9;c'><q:e a='x&amp;y'/></d>\n");
  auto doc = ParseXml("<d xmlns:q='urn&amp;b'/>", "test");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->Emit(), "<d xmlns:q='urn&amp;b'/>\n");
}

TEST(XmlDocumentTest, MixedContentKeepsItsWhitespace) {
  const std::string text =
      "<d>\n  <p>a <b>x</b> <i>y</i>\n c<!--n--></p>\n  <cmdline> </cmdline>\n  <e/>\n</d>\n";
  auto doc = ParseXml(text, "test");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->Emit(), text);
  ExpectSameDocumentAsLibxml2(text);
}

TEST(XmlDocumentTest, GoldenDomainsAreTheDocumentsLibxml2Writes) {
  const char* src = std::getenv("K6T_SOURCE_DIR");
  const std::filesystem::path dir =
      std::filesystem::path(src ? src : ".") / "test/unit/launcher/golden";
  int n = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    const std::string text = ReadFile(f.path());
    SCOPED_TRACE(f.path().string());
    auto doc = ParseXml(text, f.path().string());
    ASSERT_TRUE(doc.ok()) << doc.status();
    EXPECT_EQ(doc->Emit(), text);  // libvirt's layout, byte for byte
    ExpectSameDocumentAsLibxml2(text);
    ++n;
  }
  EXPECT_GE(n, 4);
}

TEST(ElementTest, ReadsAndEditsATree) {
  auto doc = ParseXml(
      "<devices><interface type='ethernet'><alias name='ua-a'/></interface>"
      "<hostdev><alias name='ua-b'/></hostdev><interface type='ethernet'/></devices>",
      "test");
  ASSERT_TRUE(doc.ok()) << doc.status();
  Element devices = doc->root();
  EXPECT_EQ(devices.name(), "devices");
  EXPECT_FALSE(devices.Parent());
  EXPECT_EQ(devices.Children().size(), 3u);
  ASSERT_EQ(devices.Children("interface").size(), 2u);
  Element first = devices.Child("interface");
  EXPECT_EQ(first.Attr("type"), "ethernet");
  EXPECT_TRUE(first.HasAttr("type"));
  EXPECT_FALSE(first.HasAttr("model"));
  EXPECT_EQ(first.Child("alias").Attr("name"), "ua-a");
  EXPECT_EQ(first.Child("alias").Parent().name(), "interface");
  // A null handle reads empty and ignores writes.
  Element none = devices.Child("disk");
  EXPECT_FALSE(none);
  EXPECT_EQ(none.Child("x").Attr("y"), "");
  EXPECT_FALSE(none.Add("z"));
  none.Set("a", "b");

  XmlDocument other("domain");
  Element copy = other.root().Add("devices").AddCopy(first);
  first.Remove();
  EXPECT_FALSE(first);
  EXPECT_EQ(devices.Children("interface").size(), 1u);
  EXPECT_EQ(copy.Child("alias").Attr("name"), "ua-a");
  EXPECT_EQ(other.Emit(),
            "<domain>\n  <devices>\n    <interface type='ethernet'>\n      <alias name='ua-a'/>\n"
            "    </interface>\n  </devices>\n</domain>\n");
}

TEST(ParseXmlTest, RefusesWhatIsNotAPlainWellFormedDocument) {
  auto bad = ParseXml("<domain>\n<devices></domain>", "live domain");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("live domain: not well-formed XML (line 2"));
  EXPECT_FALSE(ParseXml("", "x").ok());
  EXPECT_FALSE(ParseXml("just text", "x").ok());
  auto dtd = ParseXml(
      "<!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><d>&b;</d>", "x");
  ASSERT_FALSE(dtd.ok());
  EXPECT_THAT(dtd.status().message(), HasSubstr("DTD"));
  EXPECT_FALSE(ParseXml(std::string(kMaxXmlBytes + 1, ' '), "x").ok());
  auto ok = ParseXml("<?xml version='1.0'?>\n<domain/>\n", "x");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->Emit(), "<domain/>\n");
}

}  // namespace
}  // namespace k6t::domxml
