// k6t-hookctl: plays virt-launcher's side of KubeVirt's hook API against a sidecar's socket,
// for tests and for looking at a sidecar by hand. Over real gRPC, with stubs generated from
// the same .proto files (sidecar/proto/).
//
//   k6t-hookctl SOCKET info                       Info, as one JSON line
//   k6t-hookctl SOCKET define DOMAIN.xml VMI.json [v1alpha2|v1alpha3]
//                                                 OnDefineDomain; the new domain on stdout
//   k6t-hookctl SOCKET cloudinit DATA             PreCloudInitIso (v1alpha3); the data back
//   k6t-hookctl SOCKET shutdown                   Shutdown (v1alpha3)
//
// Exit status: 0 the call succeeded; 1 the server answered an error (printed on stderr as
// "CODE: message", CODE gRPC's number); 2 usage or an unreadable file.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "hooks_info.grpc.pb.h"
#include "hooks_v1alpha2.grpc.pb.h"
#include "hooks_v1alpha3.grpc.pb.h"

namespace {

int Usage() {
  std::fputs(
      "usage: k6t-hookctl SOCKET info | define DOMAIN.xml VMI.json [v1alpha2|v1alpha3] |\n"
      "       cloudinit DATA | shutdown\n",
      stderr);
  return 2;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

int Failed(const grpc::Status& st) {
  std::fprintf(stderr, "%d: %s\n", static_cast<int>(st.error_code()), st.error_message().c_str());
  return 1;
}

std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void Deadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
}

template <typename Stub, typename Params, typename Result>
int Define(const std::shared_ptr<grpc::Channel>& ch, const std::string& domain,
           const std::string& vmi) {
  auto stub = Stub::NewStub(ch);
  grpc::ClientContext ctx;
  Deadline(ctx);
  Params params;
  params.set_domainxml(domain);
  params.set_vmi(vmi);
  Result result;
  grpc::Status st = stub->OnDefineDomain(&ctx, params, &result);
  if (!st.ok()) return Failed(st);
  std::fwrite(result.domainxml().data(), 1, result.domainxml().size(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return Usage();
  const std::string socket = argv[1], verb = argv[2];
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(32 << 20);
  auto ch = grpc::CreateCustomChannel("unix:" + socket, grpc::InsecureChannelCredentials(), args);
  namespace info = kubevirt::hooks::info;
  namespace v2 = kubevirt::hooks::v1alpha2;
  namespace v3 = kubevirt::hooks::v1alpha3;

  if (verb == "info" && argc == 3) {
    auto stub = info::Info::NewStub(ch);
    grpc::ClientContext ctx;
    Deadline(ctx);
    info::InfoResult r;
    grpc::Status st = stub->Info(&ctx, info::InfoParams(), &r);
    if (!st.ok()) return Failed(st);
    std::string out = "{\"name\":" + Quoted(r.name()) + ",\"hookPoints\":[";
    for (int i = 0; i < r.hookpoints_size(); ++i)
      out += (i ? "," : "") + std::string("{\"name\":") + Quoted(r.hookpoints(i).name()) +
             ",\"priority\":" + std::to_string(r.hookpoints(i).priority()) + "}";
    out += "],\"versions\":[";
    for (int i = 0; i < r.versions_size(); ++i) out += (i ? "," : "") + Quoted(r.versions(i));
    std::cout << out << "]}\n";
    return 0;
  }
  if (verb == "define" && (argc == 5 || argc == 6)) {
    std::string domain, vmi;
    if (!ReadFile(argv[3], &domain) || !ReadFile(argv[4], &vmi)) {
      std::fprintf(stderr, "k6t-hookctl: cannot read %s or %s\n", argv[3], argv[4]);
      return 2;
    }
    const std::string version = argc == 6 ? argv[5] : "v1alpha3";
    if (version == "v1alpha2")
      return Define<v2::Callbacks, v2::OnDefineDomainParams, v2::OnDefineDomainResult>(ch, domain,
                                                                                       vmi);
    if (version == "v1alpha3")
      return Define<v3::Callbacks, v3::OnDefineDomainParams, v3::OnDefineDomainResult>(ch, domain,
                                                                                       vmi);
    return Usage();
  }
  if (verb == "cloudinit" && argc == 4) {
    auto stub = v3::Callbacks::NewStub(ch);
    grpc::ClientContext ctx;
    Deadline(ctx);
    v3::PreCloudInitIsoParams p;
    p.set_cloudinitdata(argv[3]);
    v3::PreCloudInitIsoResult r;
    grpc::Status st = stub->PreCloudInitIso(&ctx, p, &r);
    if (!st.ok()) return Failed(st);
    std::cout << r.cloudinitdata() << "\n";
    return 0;
  }
  if (verb == "shutdown" && argc == 3) {
    auto stub = v3::Callbacks::NewStub(ch);
    grpc::ClientContext ctx;
    Deadline(ctx);
    v3::ShutdownResult r;
    grpc::Status st = stub->Shutdown(&ctx, v3::ShutdownParams(), &r);
    return st.ok() ? 0 : Failed(st);
  }
  return Usage();
}
