// Hostile or broken manifests: never a crash, never a hang, always a clear error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>

#include "k6t/api/decode.h"
#include "k6t/api/validate.h"
#include "test/unit/api/test_util.h"

namespace k6t::api {
namespace {

using ::testing::HasSubstr;

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

TEST(BadInputTest, EmptyInputs) {
  for (const char* text : {"", "   \n\t\n", "# only a comment\n", "---\n---\n"}) {
    auto m = DecodeManifest(text, "empty.yaml");
    ASSERT_FALSE(m.ok()) << text;
    EXPECT_THAT(Msg(m.status()), HasSubstr("empty.yaml: no documents")) << text;
  }
}

TEST(BadInputTest, BinaryGarbage) {
  std::mt19937 rng(42);
  for (size_t size : {1u, 7u, 64u, 1000u, 100000u}) {
    for (int round = 0; round < 20; ++round) {
      std::string data(size, '\0');
      for (auto& c : data) c = static_cast<char>(rng());
      auto r = DecodeManifestReport(data, "garbage");
      // Random bytes are not a manifest: either unparseable or not an object.
      EXPECT_TRUE(!r.status.ok() || !r.errors.empty()) << size;
      for (auto& v : r.manifest.vms) (void)Validate(v);
    }
  }
  // Garbage made of YAML's own punctuation reaches the parser itself (random bytes are
  // mostly stopped by the UTF-8 check).
  const std::string alphabet = "{}[]:,-&*!|>'\"#%@`?\n\t abc019";
  for (size_t size : {10u, 100u, 5000u}) {
    for (int round = 0; round < 50; ++round) {
      std::string data(size, ' ');
      for (auto& c : data) c = alphabet[rng() % alphabet.size()];
      auto r = DecodeManifestReport(data, "punctuation");
      for (auto& v : r.manifest.vms) (void)Validate(v);
    }
  }
  auto nul = DecodeManifest(std::string("kind: VirtualMachine\0\x01\x02", 23), "nul");
  ASSERT_FALSE(nul.ok());
  EXPECT_THAT(Msg(nul.status()), HasSubstr("NUL byte"));
}

TEST(BadInputTest, FiftyMegabyteFileIsRefusedBySize) {
  char path[] = "/tmp/k6t-api-big-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 50ll << 20), 0);  // sparse: no 50 MB written to disk
  close(fd);
  auto m = DecodeManifestFile(path);
  unlink(path);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(Msg(m.status()),
              HasSubstr("52428800 bytes, more than the limit of 8388608 (max_bytes)"));
  // The same bound applies to text handed over directly.
  std::string text(50 << 20, 'a');
  auto t = DecodeManifest(text, "big");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(Msg(t.status()), HasSubstr("max_bytes"));
}

TEST(BadInputTest, EndlessStreamIsCutOneBytePastTheBound) {
  // A character device has no size to check first: the read itself must stop.
  DecodeLimits limits;
  limits.max_bytes = 4096;
  auto m = DecodeManifestFile("/dev/zero", limits);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(Msg(m.status()), HasSubstr("max_bytes"));
}

TEST(BadInputTest, DeepNesting) {
  const std::string yaml_flow = "a: " + std::string(100000, '[') + std::string(100000, ']');
  auto a = DecodeManifest(yaml_flow, "deep.yaml");
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(Msg(a.status()), HasSubstr("max_depth"));

  std::string json = "{\"kind\": \"VirtualMachine\", \"x\": ";
  for (int i = 0; i < 100000; ++i) json += "{\"a\": ";
  json += "1" + std::string(100000, '}') + "}";
  auto b = DecodeManifest(json, "deep.json");
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(Msg(b.status()), HasSubstr("max_depth"));

  std::string block;
  for (int i = 0; i < 200; ++i) block += std::string(i * 2, ' ') + "k:\n";
  auto c = DecodeManifest(block, "deep-block.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(Msg(c.status()), HasSubstr("max_depth"));

  // Within the bound is fine.
  DecodeLimits limits;
  limits.max_depth = 300;
  auto d = DecodeManifestReport(block, "deep-block.yaml", limits);
  EXPECT_TRUE(d.status.ok()) << d.status;
}

TEST(BadInputTest, BillionLaughs) {
  // Nine levels of nine aliases each: 9^9 = 387M strings once expanded.
  std::string bomb;
  bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  const std::string chain = "abcdefghi";
  for (size_t k = 1; k < chain.size(); ++k) {
    bomb += std::string(1, chain[k]) + ": &" + chain[k] + " [";
    for (int i = 0; i < 9; ++i) bomb += std::string(i ? "," : "") + "*" + chain[k - 1];
    bomb += "]\n";
  }
  auto m = DecodeManifest(bomb, "lol.yaml");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(Msg(m.status()), HasSubstr("nodes after alias expansion (max_nodes)"));
}

TEST(BadInputTest, LongStringAliasBomb) {
  // Few nodes, but each alias repeats a 1 MB string.
  std::string bomb = "s: &s \"" + std::string(1 << 20, 'x') + "\"\nl: [";
  for (int i = 0; i < 100; ++i) bomb += std::string(i ? "," : "") + "*s";
  bomb += "]\n";
  auto m = DecodeManifest(bomb, "strings.yaml");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(Msg(m.status()), HasSubstr("bytes of text after alias expansion"));
}

TEST(BadInputTest, TooManyDocuments) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "---\nkind: ConfigMap\n";
  auto m = DecodeManifest(text, "many.yaml");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(Msg(m.status()), HasSubstr("max_documents"));
}

TEST(BadInputTest, YamlSyntaxErrorHasLineAndColumn) {
  auto m = DecodeManifest("kind: VirtualMachine\nmetadata:\n  name: [a, b\nspec: {}\n", "bad.yaml");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(Msg(m.status()),
              ::testing::MatchesRegex("bad.yaml: syntax error at line [0-9]+, column [0-9]+: .*"));
  auto n = DecodeManifest("a: b\n  c: d\n", "bad2.yaml");
  ASSERT_FALSE(n.ok());
  EXPECT_THAT(Msg(n.status()), HasSubstr("bad2.yaml: syntax error at line 2, column"));
}

TEST(BadInputTest, JsonSyntaxErrorHasLineAndColumn) {
  auto m =
      DecodeManifest("{\n  \"kind\": \"VirtualMachine\",\n  \"spec\": [1, 2,,]\n}", "bad.json");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(Msg(m.status()), HasSubstr("bad.json: syntax error at line 3, column 17"));
}

TEST(BadInputTest, NotAManifest) {
  auto r = DecodeManifestReport("just a sentence\n", "s.yaml");
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(
      r.errors[0].ToString(),
      "(document): expected an object (a Kubernetes manifest), got string \"just a sentence\"");
  auto k = DecodeManifestReport("metadata: {name: x}\n", "k.yaml");
  ASSERT_EQ(k.errors.size(), 1u);
  EXPECT_EQ(k.errors[0].ToString(), "kind: required");
  auto s = DecodeManifestReport("kind: VirtualMachine\nmetadata: {name: x}\n", "s.yaml");
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_EQ(s.errors[0].ToString(), "spec: required");
  auto nn = DecodeManifestReport("kind: VirtualMachineInstance\nspec: {domain: {}}\n", "n.yaml");
  ASSERT_EQ(nn.errors.size(), 1u);
  EXPECT_EQ(nn.errors[0].ToString(), "metadata.name: required");
}

TEST(BadInputTest, OtherApiGroupIsNotAKubeVirtVm) {
  auto m = DecodeManifest(
      "apiVersion: vmoperator.vmware.com/v1alpha1\nkind: VirtualMachine\n"
      "metadata: {name: x}\n",
      "x");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->vms.empty());
  EXPECT_EQ(m->others.size(), 1u);
}

TEST(BadInputTest, InvalidUtf8IsRefused) {
  auto m = DecodeManifest("kind: ConfigMap\nmetadata: {name: \"\xff\xfe\"}\n", "u");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(Msg(m.status()), HasSubstr("u: input is not valid UTF-8 (byte offset 34)"));
  // Overlong encodings and surrogates are not UTF-8 either; real multibyte text is.
  EXPECT_FALSE(DecodeManifest("kind: \xc0\xaf\n", "o").ok());
  EXPECT_FALSE(DecodeManifest("kind: \xed\xa0\x80\n", "s").ok());
  auto ok = DecodeManifest(
      "kind: ConfigMap\nmetadata: {name: \"gr\xc3\xbc\xc3\x9f \xe2\x9c\x93\"}\n", "g");
  EXPECT_TRUE(ok.ok()) << ok.status();
}

}  // namespace
}  // namespace k6t::api
