// Runs the built `k6t-handler validate` and checks exit codes and output lines.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "test/unit/api/test_util.h"

extern char** environ;

namespace k6t::api {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Result {
  int code = -1;
  std::string out, err;
};

// $K6T_BUILD_DIR, or the build tree this test binary sits in (<build>/test-bin/).
std::string BuildDir() {
  if (const char* build = std::getenv("K6T_BUILD_DIR")) return build;
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return ".";
  std::string path(self, static_cast<size_t>(n));
  for (int i = 0; i < 2; ++i) path = path.substr(0, path.rfind('/'));
  return path;
}

class ValidateCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    binary_ = BuildDir() + "/bin/k6t-handler";
    ASSERT_EQ(access(binary_.c_str(), X_OK), 0) << binary_;
    char tmpl[] = "/tmp/k6t-cli-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const auto& f : files_) unlink(f.c_str());
    unlink((dir_ + "/out").c_str());
    unlink((dir_ + "/err").c_str());
    rmdir(dir_.c_str());
  }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    files_.push_back(path);
    return path;
  }

  Result Run(std::vector<std::string> args) {
    args.insert(args.begin(), binary_);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    const std::string out = dir_ + "/out", err = dir_ + "/err";
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    Result r;
    if (posix_spawn(&pid, binary_.c_str(), &fa, nullptr, argv.data(), environ) == 0) {
      int status = 0;
      waitpid(pid, &status, 0);
      r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    posix_spawn_file_actions_destroy(&fa);
    r.out = testing::ReadFile(out);
    r.err = testing::ReadFile(err);
    return r;
  }

  std::string binary_, dir_;
  std::vector<std::string> files_;
};

TEST_F(ValidateCliTest, EveryExampleIsValid) {
  std::vector<std::string> args = {"validate"};
  for (const auto& n : testing::ExampleNames())
    args.push_back(testing::SourceDir() + "/examples/" + n);
  Result r = Run(args);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  for (const auto& n : testing::ExampleNames())
    EXPECT_THAT(r.out, HasSubstr(n + ": 1 VM(s) valid\n"));
}

TEST_F(ValidateCliTest, InvalidVmExitsOneWithOneLinePerError) {
  const std::string f = Write("bad.yaml", R"(
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: bad}
spec:
  template:
    spec:
      domain:
        devices:
          interfaces:
            - {name: blue, bridge: {}}
            - {name: default, masquerade: {}, macAddress: "02:00:00:00:00:00", bootOrder: x}
      networks:
        - {name: default, pod: {}}
        - {name: blue, multus: {networkName: blue-net}}
)");
  Result r = Run({"validate", f});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, f +
                       ": spec.template.spec.domain.devices.interfaces[1].bootOrder: expected an "
                       "integer, got string \"x\"\n" +
                       f +
                       ": spec.template.spec.domain.devices.interfaces[1].macAddress: "
                       "\"02:00:00:00:00:00\" is reserved for the in-pod bridge\n");
}

TEST_F(ValidateCliTest, SyntaxErrorExitsTwoWithLineAndColumn) {
  const std::string f = Write("syntax.yaml", "kind: VirtualMachine\nmetadata:\n  name: [x\n");
  const std::string good = testing::SourceDir() + "/examples/quickstart.yaml";
  Result r = Run({"validate", good, f});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, ::testing::ContainsRegex(f + ": syntax error at line [0-9]+, column [0-9]+"));
  EXPECT_THAT(r.out, HasSubstr("quickstart.yaml: 1 VM(s) valid"));  // other files still checked
}

TEST_F(ValidateCliTest, MissingFileExitsTwo) {
  Result r = Run({"validate", dir_ + "/nope.yaml"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("nope.yaml: cannot stat: No such file or directory"));
}

TEST_F(ValidateCliTest, UnknownFieldsAreWarnings) {
  const std::string f = Write("warn.yaml",
                              "kind: VirtualMachineInstance\nmetadata: {name: w}\n"
                              "spec: {domain: {devices: {}}, bogus: 1}\n");
  Result r = Run({"validate", f});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "warning: " + f + ": spec.bogus: unknown field, ignored\n");
  EXPECT_EQ(r.out, f + ": 1 VM(s) valid\n");
  Result q = Run({"validate", "--no-warnings", f});
  EXPECT_EQ(q.code, 0);
  EXPECT_EQ(q.err, "");
}

TEST_F(ValidateCliTest, ClusterFlags) {
  const std::string f = Write("plugin.yaml",
                              "kind: VirtualMachineInstance\nmetadata: {name: p}\n"
                              "spec:\n  domain: {devices: {interfaces: [{name: default, binding: "
                              "{name: mine}}]}}\n  networks: [{name: default, pod: {}}]\n");
  EXPECT_EQ(Run({"validate", f}).code, 1);
  EXPECT_EQ(Run({"validate", "--binding-plugins=mine,l2bridge", f}).code, 0);
  EXPECT_EQ(Run({"validate", "--binding-plugins", "mine", f}).code, 0);
}

TEST_F(ValidateCliTest, HelpAndUsageErrors) {
  Result top = Run({"--help"});
  EXPECT_EQ(top.code, 0);
  EXPECT_THAT(top.out, HasSubstr("validate"));
  Result verb = Run({"validate", "--help"});
  EXPECT_EQ(verb.code, 0);
  EXPECT_THAT(verb.out, HasSubstr("Usage: k6t-handler validate [FLAGS] FILE..."));
  Result none = Run({});
  EXPECT_EQ(none.code, 2);
  Result unknown = Run({"frobnicate"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("unknown verb 'frobnicate'"));
  Result flag = Run({"validate", "--bogus", "x.yaml"});
  EXPECT_EQ(flag.code, 2);
  EXPECT_THAT(flag.err, HasSubstr("unknown flag --bogus"));
  Result nofile = Run({"validate"});
  EXPECT_EQ(nofile.code, 2);
  EXPECT_THAT(nofile.err, HasSubstr("missing FILE..."));
  EXPECT_THAT(nofile.out, Not(HasSubstr("valid")));
}

}  // namespace
}  // namespace k6t::api
