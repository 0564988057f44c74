// handler/src/args.h: the per-verb argument parser behind every k6t-handler verb.
#include "args.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace k6t::handler {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class Argv {
 public:
  Argv(std::initializer_list<std::string> args) : args_(args) {
    for (auto& a : args_) ptrs_.push_back(a.data());
  }
  int argc() const { return static_cast<int>(ptrs_.size()); }
  char** argv() { return ptrs_.data(); }

 private:
  std::vector<std::string> args_;
  std::vector<char*> ptrs_;
};

ArgParser Parser() {
  ArgParser p("k6t-handler", "plan", "FILE", "Prints the plan.");
  p.Flag("netns", "PATH", "pod network namespace").Bool("json", "print JSON").Positionals(1, 1);
  return p;
}

TEST(ArgsTest, FlagsValuesAndPositionals) {
  Argv a{"plan", "--netns", "/run/netns/x", "--json", "vm.yaml"};
  auto r = Parser().Parse(a.argc(), a.argv());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->Get("netns"), "/run/netns/x");
  EXPECT_TRUE(r->Has("json"));
  EXPECT_FALSE(r->help);
  EXPECT_THAT(r->positionals, ElementsAre("vm.yaml"));

  Argv b{"plan", "--netns=/a", "--netns=/b", "--", "--weird-file"};
  auto s = Parser().Parse(b.argc(), b.argv());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->Get("netns"), "/b");
  EXPECT_THAT(s->values.at("netns"), ElementsAre("/a", "/b"));
  EXPECT_FALSE(s->Has("json"));
  EXPECT_EQ(s->Get("missing", "fallback"), "fallback");
  EXPECT_THAT(s->positionals, ElementsAre("--weird-file"));
}

TEST(ArgsTest, Errors) {
  auto err = [](Argv a) {
    auto r = Parser().Parse(a.argc(), a.argv());
    return r.ok() ? std::string("ok") : std::string(r.status().message());
  };
  EXPECT_THAT(err({"plan", "--nope", "f"}),
              HasSubstr("plan: unknown flag --nope (see 'k6t-handler plan --help')"));
  EXPECT_THAT(err({"plan", "f", "--netns"}), HasSubstr("flag --netns needs a value (PATH)"));
  EXPECT_THAT(err({"plan", "--json=yes", "f"}), HasSubstr("flag --json takes no value"));
  EXPECT_THAT(err({"plan"}), HasSubstr("missing FILE"));
  EXPECT_THAT(err({"plan", "a", "b"}), HasSubstr("unexpected argument 'b'"));
  EXPECT_THAT(err({"plan", "-x", "f"}), HasSubstr("unknown option -x"));
}

TEST(ArgsTest, HelpSkipsPositionalChecks) {
  Argv a{"plan", "--help"};
  auto r = Parser().Parse(a.argc(), a.argv());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->help);
  const std::string h = Parser().Help();
  EXPECT_THAT(h, HasSubstr("Usage: k6t-handler plan [FLAGS] FILE"));
  EXPECT_THAT(h, HasSubstr("--netns PATH"));
  EXPECT_THAT(h, HasSubstr("--json"));
  EXPECT_THAT(h, HasSubstr("-h, --help"));
}

}  // namespace
}  // namespace k6t::handler

namespace k6t::handler {
namespace {

ParsedArgs WithValue(const std::string& flag, const std::string& value) {
  ParsedArgs a;
  a.values[flag] = {value};
  return a;
}

TEST(ParsedArgsSecondsTest, FallbackWhenNotGiven) {
  auto d = ParsedArgs().Seconds("wait", 0, 10, absl::Seconds(3));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(*d, absl::Seconds(3));
}

TEST(ParsedArgsSecondsTest, FractionsAndBoundsAreAccepted) {
  auto d = WithValue("resync", "0.25").Seconds("resync", 0.1, 60, absl::ZeroDuration());
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(*d, absl::Milliseconds(250));
  auto top = WithValue("resync", "60").Seconds("resync", 0.1, 60, absl::ZeroDuration());
  ASSERT_TRUE(top.ok()) << top.status();
  EXPECT_EQ(*top, absl::Seconds(60));
}

TEST(ParsedArgsSecondsTest, OutOfRangeOrNotANumberNamesTheFlagAndRange) {
  for (const char* bad : {"-1", "61", "abc", "nan", ""}) {
    auto d = WithValue("wait", bad).Seconds("wait", 0, 60, absl::ZeroDuration());
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(d.status().message()), HasSubstr("--wait must be 0..60 seconds"));
  }
}

}  // namespace
}  // namespace k6t::handler
