// The invalid-spec corpus (testdata/invalid/*.yaml, one broken rule each, its first line
// `# expect: FIELD.PATH`): `validate`, `plan` and `setup` all refuse every file with exit
// code 1 and an error on that field path, and `setup` leaves a real pod namespace and the
// state dir exactly as they were. A new file in the directory is a new case.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "test/support/netns_snapshot.h"
#include "test/support/pod_sim.h"
#include "test/support/shell.h"

namespace k6t::handler {
namespace {

using ::testing::HasSubstr;
using testsupport::NetnsSnapshot;
using testsupport::PodSim;
using testsupport::Sh;

constexpr char kPod[] = "test/netns/handler/testdata/podsim-vm.yaml";
constexpr char kCorpus[] = "test/netns/handler/testdata/invalid";
constexpr char kExpect[] = "# expect: ";
constexpr int kExitInvalid = 1;
constexpr size_t kMinCorpus = 60;

struct BadSpec {
  std::string file;
  std::string path;  // the field path the errors must name
};

std::vector<BadSpec> Corpus() {
  std::vector<BadSpec> out;
  for (const auto& e :
       std::filesystem::directory_iterator(testsupport::SourceDir() + "/" + kCorpus)) {
    if (e.path().extension() != ".yaml") continue;
    std::ifstream in(e.path());
    std::string first;
    std::getline(in, first);
    out.push_back({e.path().string(),
                   absl::StartsWith(first, kExpect) ? first.substr(sizeof(kExpect) - 1) : ""});
  }
  std::sort(out.begin(), out.end(),
            [](const BadSpec& a, const BadSpec& b) { return a.file < b.file; });
  return out;
}

bool DirEmpty(const std::string& dir) {
  return !std::filesystem::exists(dir) || std::filesystem::is_empty(dir);
}

TEST(BadSpecsTest, EveryInvalidSpecIsRefusedWithItsPathAndSetupChangesNothing) {
  const std::vector<BadSpec> corpus = Corpus();
  ASSERT_GE(corpus.size(), kMinCorpus) << "the corpus is " << kCorpus;

  PodSim pod(kPod);
  ASSERT_TRUE(pod.ok()) << pod.error();
  const std::string state = testsupport::TempDir();
  const std::string handler = testsupport::BuildDir() + "/bin/k6t-handler";
  const std::string netns_args =
      absl::StrCat(" --pod-netns ", pod.netns_path(), " --network-status ", pod.status_file());

  // The corpus is the pod's own VM with one thing broken: the unbroken VM is accepted, so
  // each refusal below is the broken rule's doing.
  const std::string good = testsupport::SourceDir() + "/" + kPod;
  ASSERT_EQ(Sh(absl::StrCat(handler, " validate ", good)).exit_code, 0);
  ASSERT_EQ(Sh(absl::StrCat(handler, " plan --vmi ", good, netns_args)).exit_code, 0);

  const std::string initial = NetnsSnapshot(pod.name());
  for (const BadSpec& spec : corpus) {
    SCOPED_TRACE(spec.file);
    ASSERT_FALSE(spec.path.empty()) << "first line must be '" << kExpect << "FIELD.PATH'";
    // "PATH: message" — the colon keeps interfaces[1] from matching interfaces[1].name.
    const std::string named = spec.path + ": ";
    const std::string vmi = " --vmi " + spec.file;

    auto v = Sh(absl::StrCat(handler, " validate --no-warnings ", spec.file));
    EXPECT_EQ(v.exit_code, kExitInvalid) << v.output;
    EXPECT_THAT(v.output, HasSubstr(named)) << "validate";

    auto p = Sh(absl::StrCat(handler, " plan", vmi, netns_args));
    EXPECT_EQ(p.exit_code, kExitInvalid) << p.output;
    EXPECT_THAT(p.output, HasSubstr(named)) << "plan";

    auto s = Sh(absl::StrCat(handler, " setup", vmi, netns_args, " --state-dir ", state));
    EXPECT_EQ(s.exit_code, kExitInvalid) << s.output;
    EXPECT_THAT(s.output, HasSubstr(named)) << "setup";
    EXPECT_EQ(NetnsSnapshot(pod.name()), initial) << "setup changed the pod namespace";
    EXPECT_TRUE(DirEmpty(state)) << "setup wrote to the state dir";
  }
  Sh("rm -rf " + state);
}

}  // namespace
}  // namespace k6t::handler
