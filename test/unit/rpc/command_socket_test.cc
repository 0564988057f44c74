// The command socket end to end over a real unix socket in a temp dir: librpc's Server against
// its SocketLauncherClient and against raw, hostile byte streams.
// Timeouts here only detect hangs; nothing asserts on speed.
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "k6t/api/rpc.h"
#include "k6t/rpc/client.h"
#include "k6t/rpc/frame.h"
#include "k6t/rpc/launcher_client.h"
#include "k6t/rpc/server.h"

namespace k6t::rpc {
namespace {

namespace msg = api::rpc;
using ::testing::HasSubstr;

constexpr auto kHang = std::chrono::seconds(60);  // "this hung", never "this was slow"

// Every call may take up to kHang: these deadlines detect hangs, not slowness.
CallDeadlines HangDeadlines() {
  const absl::Duration hang = absl::FromChrono(kHang);
  CallDeadlines d;
  d.ping = d.sync_vmi = d.kill = d.get_domain = d.get_status = d.attach = d.detach = d.link_state =
      d.shutdown_grace = hang;
  return d;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/k6t-rpc-test-XXXXXX";
    char* d = mkdtemp(tmpl);
    EXPECT_NE(d, nullptr);
    path_ = d ? d : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A client that speaks raw bytes, for the hostile cases.
class RawConn {
 public:
  static std::unique_ptr<RawConn> Connect(const std::string& path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ADD_FAILURE() << "connect " << path << ": " << std::strerror(errno);
      close(fd);
      return nullptr;
    }
    return std::unique_ptr<RawConn>(new RawConn(fd));
  }
  ~RawConn() { close(fd_); }

  bool Send(std::string_view bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t w = send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return false;
      off += static_cast<size_t>(w);
    }
    return true;
  }

  // The next frame; kDeadlineExceeded on timeout, kUnavailable on EOF.
  absl::StatusOr<std::string> ReadFrame(std::chrono::milliseconds timeout = kHang) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[65536];
    while (true) {
      if (auto f = dec_.Pop()) return *f;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return absl::DeadlineExceededError("no frame");
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      ssize_t r = recv(fd_, buf, sizeof(buf), 0);
      if (r == 0) return absl::UnavailableError("eof");
      if (r < 0) {
        if (errno == EINTR) continue;
        return absl::UnavailableError(std::strerror(errno));
      }
      if (auto s = dec_.Feed(buf, static_cast<size_t>(r)); !s.ok()) return s;
    }
  }

  // True when the server closes the connection (EOF or reset) before the timeout.
  bool WaitClosed(std::chrono::milliseconds timeout = kHang) {
    while (true) {
      auto f = ReadFrame(timeout);
      if (f.ok()) continue;  // skip frames sent before the close
      return f.status().code() == absl::StatusCode::kUnavailable;
    }
  }

  int fd() const { return fd_; }

 private:
  explicit RawConn(int fd) : fd_(fd) {}
  int fd_;
  FrameDecoder dec_;
};

std::string Req(int id, const std::string& method, const std::string& params = "{}") {
  msg::Request r;
  r.id_json = std::to_string(id);
  r.method = method;
  r.params_json = params;
  return EncodeFrame(msg::EncodeRequest(r));
}

msg::Response MustParse(const absl::StatusOr<std::string>& frame) {
  EXPECT_TRUE(frame.ok()) << frame.status();
  if (!frame.ok()) return {};
  auto r = msg::ParseResponse(*frame);
  EXPECT_TRUE(r.ok()) << r.status() << " in " << *frame;
  return r.ok() ? *r : msg::Response{};
}

// A one-shot gate a handler can wait on, released by the test (no sleeps).
class Gate {
 public:
  void Open() {
    std::lock_guard<std::mutex> g(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool Wait(std::chrono::milliseconds timeout = kHang) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, timeout, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

class CommandSocketTest : public ::testing::Test {
 protected:
  std::string SocketPath() const { return dir_.path() + "/sockets/launcher-sock"; }

  ServerOptions Options() {
    ServerOptions o;
    o.socket_path = SocketPath();
    o.version = "test-1.0";
    return o;
  }

  std::unique_ptr<Server> StartServer(ServerOptions o, void (*setup)(Server*) = nullptr) {
    auto s = std::make_unique<Server>(std::move(o));
    if (setup) setup(s.get());
    absl::Status st = s->Start();
    EXPECT_TRUE(st.ok()) << st;
    return s;
  }

  std::unique_ptr<SocketLauncherClient> NewClient(CallDeadlines deadlines = HangDeadlines()) {
    auto c = SocketLauncherClient::Connect(SocketPath(), absl::Seconds(30), deadlines);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }

  TempDir dir_;
};

TEST_F(CommandSocketTest, PingRoundTrip) {
  auto server = StartServer(Options());
  auto client = NewClient();
  ASSERT_TRUE(client);
  auto pong = client->Ping();
  ASSERT_TRUE(pong.ok()) << pong.status();
  EXPECT_EQ(pong->version, "test-1.0");
  // The connection is reusable.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(client->Ping().ok());
}

TEST_F(CommandSocketTest, SocketIsMode0600InA0700DirAndRemovedOnStop) {
  auto server = StartServer(Options());
  struct stat st;
  ASSERT_EQ(stat(SocketPath().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(stat((dir_.path() + "/sockets").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  server->Stop();
  EXPECT_NE(access(SocketPath().c_str(), F_OK), 0);
  server->Stop();  // idempotent
}

TEST_F(CommandSocketTest, StaleSocketIsReplacedLiveOneAndRegularFileAreNot) {
  {
    // A stale socket: bound, never listening, its server gone.
    mkdir((dir_.path() + "/sockets").c_str(), 0700);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, SocketPath().c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    close(fd);
  }
  auto server = StartServer(Options());
  ASSERT_TRUE(NewClient()->Ping().ok());

  Server second(Options());
  EXPECT_EQ(second.Start().code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(NewClient()->Ping().ok());  // the live server kept its socket
  server->Stop();

  const std::string file = dir_.path() + "/not-a-socket";
  FILE* f = std::fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  ServerOptions o = Options();
  o.socket_path = file;
  Server third(o);
  EXPECT_EQ(third.Start().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(access(file.c_str(), F_OK), 0);  // not deleted
}

TEST_F(CommandSocketTest, ThousandMalformedFramesThenPingStillAnswers) {
  auto server = StartServer(Options());
  auto raw = RawConn::Connect(SocketPath());
  ASSERT_TRUE(raw);
  const std::vector<std::pair<std::string, msg::ErrorCode>> bad = {
      {"", msg::ErrorCode::kParseError},
      {"garbage", msg::ErrorCode::kParseError},
      {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xc3\x28\"}", msg::ErrorCode::kParseError},
      {std::string(200, '{'), msg::ErrorCode::kParseError},
      {"[1,2]", msg::ErrorCode::kInvalidRequest},
      {"{\"jsonrpc\":\"2.0\",\"method\":\"Ping\"}", msg::ErrorCode::kInvalidRequest},
      {"{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"NoSuchMethod\"}",
       msg::ErrorCode::kMethodNotFound},
      {"{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"Ping\",\"params\":{\"x\":1}}",
       msg::ErrorCode::kInvalidParams},
  };
  constexpr int kFrames = 1000;
  // Sent all at once: the server must cope with them pipelined, not only one by one.
  std::string blob;
  for (int i = 0; i < kFrames; ++i) blob += EncodeFrame(bad[i % bad.size()].first);
  std::thread writer([&] { EXPECT_TRUE(raw->Send(blob)); });
  for (int i = 0; i < kFrames; ++i) {
    msg::Response r = MustParse(raw->ReadFrame());
    ASSERT_TRUE(r.error) << "frame " << i;
    EXPECT_EQ(r.error->code, static_cast<int>(bad[i % bad.size()].second)) << "frame " << i;
  }
  writer.join();
  ASSERT_TRUE(raw->Send(Req(77, "Ping")));
  msg::Response pong = MustParse(raw->ReadFrame());
  EXPECT_EQ(pong.id_json, "77");
  EXPECT_FALSE(pong.error);
  ASSERT_TRUE(NewClient()->Ping().ok());
  EXPECT_GE(server->stats().malformed, static_cast<uint64_t>(kFrames));
}

TEST_F(CommandSocketTest, OversizedFrameIsRejectedAndClosedOthersUnaffected) {
  ServerOptions o = Options();
  o.max_frame_bytes = 64 * 1024;
  auto server = StartServer(o);
  auto other = NewClient();
  auto raw = RawConn::Connect(SocketPath());
  ASSERT_TRUE(raw);
  std::string header(4, '\0');
  header[1] = 0x10;  // 1 MiB announced
  ASSERT_TRUE(raw->Send(header + std::string(1000, 'x')));
  msg::Response r = MustParse(raw->ReadFrame());
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, static_cast<int>(msg::ErrorCode::kResourceExhausted));
  EXPECT_THAT(r.error->message, HasSubstr("1048576"));
  EXPECT_EQ(r.id_json, "null");
  EXPECT_TRUE(raw->WaitClosed());
  ASSERT_TRUE(other->Ping().ok());

  // The client refuses to send what the server would refuse.
  auto big =
      SocketLauncherClient::Connect(SocketPath(), absl::Seconds(30), HangDeadlines(), 64 * 1024);
  ASSERT_TRUE(big.ok());
  auto res = (*big)->client().Call(
      "SyncVMI", "{\"vmi\":{\"x\":\"" + std::string(70000, 'y') + "\"}}", absl::Seconds(30));
  EXPECT_EQ(res.status().code(), absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE((*big)->Ping().ok());
}

TEST_F(CommandSocketTest, OversizedResultBecomesAnError) {
  ServerOptions o = Options();
  o.max_frame_bytes = 4096;
  auto server = std::make_unique<Server>(o);
  server->Register("GetDomain", [](const std::string&) -> absl::StatusOr<std::string> {
    msg::GetDomainResult d;
    d.state = "running";
    d.xml = std::string(10000, 'x');
    return msg::ToJson(d);
  });
  ASSERT_TRUE(server->Start().ok());
  auto client =
      SocketLauncherClient::Connect(SocketPath(), absl::Seconds(30), HangDeadlines(), 4096);
  ASSERT_TRUE(client.ok());
  auto d = (*client)->GetDomain();
  EXPECT_EQ(d.status().code(), absl::StatusCode::kResourceExhausted) << d.status();
  ASSERT_TRUE((*client)->Ping().ok());
}

TEST_F(CommandSocketTest, SlowlorisIsDroppedWhileOthersAreServed) {
  ServerOptions o = Options();
  o.frame_timeout = std::chrono::milliseconds(500);
  auto server = StartServer(o);
  auto slow = RawConn::Connect(SocketPath());
  auto slow2 = RawConn::Connect(SocketPath());
  ASSERT_TRUE(slow && slow2);
  const std::string ping = Req(1, "Ping");
  ASSERT_TRUE(slow->Send(ping.substr(0, 3)));                 // half a header
  ASSERT_TRUE(slow2->Send(ping.substr(0, ping.size() - 1)));  // all but the last byte
  auto client = NewClient();
  ASSERT_TRUE(client->Ping().ok());
  EXPECT_TRUE(slow->WaitClosed());
  EXPECT_TRUE(slow2->WaitClosed());
  EXPECT_GE(server->stats().timed_out, 2u);
  ASSERT_TRUE(client->Ping().ok());
}

TEST_F(CommandSocketTest, SixtyFourClientsFiftyPingsEach) {
  auto server = StartServer(Options());
  constexpr int kClients = 64;
  constexpr int kPings = 50;
  std::atomic<int> ok{0};
  std::vector<std::unique_ptr<SocketLauncherClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(NewClient());
    ASSERT_TRUE(clients.back());
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      for (int p = 0; p < kPings; ++p) {
        auto r = clients[i]->Ping();
        if (r.ok() && r->version == "test-1.0") ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kClients * kPings);
  EXPECT_EQ(server->client_count(), static_cast<size_t>(kClients));
}

TEST_F(CommandSocketTest, ClientsBeyondTheLimitAreToldBusy) {
  ServerOptions o = Options();
  o.max_clients = 2;
  auto server = StartServer(o);
  auto a = NewClient();
  auto b = NewClient();
  ASSERT_TRUE(a->Ping().ok());
  ASSERT_TRUE(b->Ping().ok());
  auto c = NewClient();
  auto r = c->Ping();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("too many clients"));
  EXPECT_EQ(server->stats().refused_full, 1u);
  a.reset();  // a slot frees up
  bool served = false;
  for (int i = 0; i < 600 && !served; ++i) {  // the server notices the close asynchronously
    auto d = NewClient();
    served = d->Ping().ok();
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(served);
}

TEST_F(CommandSocketTest, SlowHandlerDoesNotBlockPingOrOtherMethods) {
  auto server = std::make_unique<Server>(Options());
  Gate entered, release;
  server->Register("SyncVMI",
                   [&](const std::string&) -> absl::StatusOr<std::string> {
                     entered.Open();
                     if (!release.Wait()) return absl::DeadlineExceededError("test never released");
                     return msg::ToJson(msg::SyncVmiResult{"Running", "default_vm1"});
                   },
                   {.exclusive = true});
  server->Register("GetStatus", [](const std::string&) -> absl::StatusOr<std::string> {
    return msg::ToJson(msg::GetStatusResult{"Scheduling", {}});
  });
  ASSERT_TRUE(server->Start().ok());

  auto booting = NewClient();
  absl::StatusOr<msg::SyncVmiResult> sync_result = absl::UnknownError("not run");
  std::thread t([&] { sync_result = booting->SyncVMI(R"({"kind":"VirtualMachineInstance"})"); });
  ASSERT_TRUE(entered.Wait());
  // The boot is still in progress: Ping and another method answer anyway.
  auto other = NewClient();
  auto pong = other->Ping();
  EXPECT_TRUE(pong.ok()) << pong.status();
  auto status = other->GetStatus();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->phase, "Scheduling");
  // Pipelined on the *same* connection as a slow request, Ping is answered first.
  auto raw = RawConn::Connect(SocketPath());
  ASSERT_TRUE(raw->Send(Req(1, "SyncVMI", R"({"vmi":{"kind":"x"}})") + Req(2, "Ping")));
  msg::Response first = MustParse(raw->ReadFrame());
  EXPECT_EQ(first.id_json, "2");
  release.Open();
  t.join();
  ASSERT_TRUE(sync_result.ok()) << sync_result.status();
  EXPECT_EQ(sync_result->domain_name, "default_vm1");
  msg::Response second = MustParse(raw->ReadFrame());
  EXPECT_EQ(second.id_json, "1");
  EXPECT_FALSE(second.error);
}

TEST_F(CommandSocketTest, ExclusiveMethodNeverRunsConcurrentlyOthersDo) {
  ServerOptions o = Options();
  o.worker_threads = 4;
  auto server = std::make_unique<Server>(o);
  std::atomic<int> in_sync{0}, max_sync{0};
  server->Register("SyncVMI",
                   [&](const std::string&) -> absl::StatusOr<std::string> {
                     const int now = ++in_sync;
                     int prev = max_sync.load();
                     while (now > prev && !max_sync.compare_exchange_weak(prev, now)) {
                     }
                     std::this_thread::sleep_for(std::chrono::milliseconds(20));
                     --in_sync;
                     return msg::ToJson(msg::SyncVmiResult{"Running", "d"});
                   },
                   {.exclusive = true});
  // Non-exclusive: two calls must be inside at the same time to finish (proves the pool is
  // concurrent, so the exclusive result above is not an accident of a single worker).
  std::mutex mu;
  std::condition_variable cv;
  int inside = 0;
  server->Register("GetDomain", [&](const std::string&) -> absl::StatusOr<std::string> {
    std::unique_lock<std::mutex> l(mu);
    ++inside;
    cv.notify_all();
    if (!cv.wait_for(l, kHang, [&] { return inside >= 2; })) {
      return absl::DeadlineExceededError("not concurrent");
    }
    return msg::ToJson(msg::GetDomainResult{"running", "", {}});
  });
  ASSERT_TRUE(server->Start().ok());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto c = NewClient();
      for (int k = 0; k < 3; ++k) ok += c->SyncVMI(R"({"kind":"x"})").ok();
    });
  }
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&] { ok += NewClient()->GetDomain().ok(); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 14);
  EXPECT_EQ(max_sync.load(), 1);
}

TEST_F(CommandSocketTest, HandlerErrorsComeBackAsTheSameStatus) {
  auto server = std::make_unique<Server>(Options());
  server->Register("DetachInterface", [](const std::string& params) -> absl::StatusOr<std::string> {
    msg::InterfaceParams p;
    if (auto s = msg::FromJson(params, &p); !s.ok()) return s;
    return absl::NotFoundError("interface \"" + p.name + "\" is not in the domain");
  });
  server->Register("SetLinkState", [](const std::string& params) -> absl::StatusOr<std::string> {
    msg::SetLinkStateParams p;
    if (auto s = msg::FromJson(params, &p); !s.ok()) return s;
    return absl::FailedPreconditionError("binding change needs a restart");
  });
  server->Register("Kill", [](const std::string&) -> absl::StatusOr<std::string> {
    throw std::runtime_error("boom");
  });
  server->Register("GetStatus", [](const std::string&) -> absl::StatusOr<std::string> {
    return std::string("{not json");
  });
  ASSERT_TRUE(server->Start().ok());
  auto c = NewClient();
  auto d = c->DetachInterface("blue");
  EXPECT_EQ(d.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(d.status().message()),
              HasSubstr("interface \"blue\" is not in the domain"));
  auto l = c->SetLinkState("blue", false);
  EXPECT_EQ(l.status().code(), absl::StatusCode::kFailedPrecondition);
  auto bad = c->client().Call("DetachInterface", R"({"nmae":"blue"})", absl::Seconds(30));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("params.nmae"));
  auto missing = c->AttachInterface("blue");  // not registered
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(c->Kill().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(c->GetStatus().status().code(), absl::StatusCode::kInternal);
  ASSERT_TRUE(c->Ping().ok());
}

TEST_F(CommandSocketTest, TypedWrappersCarryTheirParams) {
  auto server = std::make_unique<Server>(Options());
  std::mutex mu;
  std::vector<std::string> seen;
  auto record = [&](std::string method) {
    return [&, method](const std::string& params) -> absl::StatusOr<std::string> {
      std::lock_guard<std::mutex> g(mu);
      seen.push_back(method + " " + params);
      if (method == "GetStatus") {
        msg::StatusInterface i;
        i.name = "default";
        i.mac = "02:00:00:00:00:01";
        i.ip_addresses = {"10.244.0.5"};
        i.ip_address = "10.244.0.5";
        i.queue_count = 1;
        return msg::ToJson(msg::GetStatusResult{"Running", {i}});
      }
      if (method == "GetDomain") {
        return msg::ToJson(msg::GetDomainResult{
            "running",
            "<domain/>",
            {{"default", "02:00:00:00:00:01", "tap0", "up", "virtio", 1, "ua-default"}}});
      }
      if (method == "Attach" || method == "Detach" || method == "Link") {
        return msg::ToJson(msg::ChangedResult{method != "Detach"});
      }
      return std::string("{}");
    };
  };
  server->Register("Shutdown", record("Shutdown"));
  server->Register("Kill", record("Kill"));
  server->Register("GetStatus", record("GetStatus"));
  server->Register("GetDomain", record("GetDomain"));
  server->Register("AttachInterface", record("Attach"));
  server->Register("DetachInterface", record("Detach"));
  server->Register("SetLinkState", record("Link"));
  ASSERT_TRUE(server->Start().ok());
  auto c = NewClient();
  ASSERT_TRUE(c->Shutdown(7).ok());
  ASSERT_TRUE(c->Kill().ok());
  auto st = c->GetStatus();
  ASSERT_TRUE(st.ok()) << st.status();
  ASSERT_EQ(st->interfaces.size(), 1u);
  EXPECT_EQ(st->interfaces[0].ip_addresses, std::vector<std::string>{"10.244.0.5"});
  auto dom = c->GetDomain();
  ASSERT_TRUE(dom.ok());
  EXPECT_EQ(dom->interfaces.at(0).target, "tap0");
  EXPECT_EQ(c->AttachInterface("blue").value_or(false), true);
  EXPECT_EQ(c->DetachInterface("blue").value_or(true), false);
  EXPECT_EQ(c->SetLinkState("blue", true).value_or(false), true);
  EXPECT_THAT(seen, ::testing::ElementsAre(
                        "Shutdown {\"timeout_seconds\":7}", "Kill {}", "GetStatus {}",
                        "GetDomain {}", "Attach {\"name\":\"blue\"}", "Detach {\"name\":\"blue\"}",
                        "Link {\"name\":\"blue\",\"state\":\"up\"}"));
}

TEST_F(CommandSocketTest, ClientGoingAwayMidRequestIsHarmless) {
  auto server = std::make_unique<Server>(Options());
  Gate entered, release;
  server->Register("Kill", [&](const std::string&) -> absl::StatusOr<std::string> {
    entered.Open();
    release.Wait();
    return std::string("{}");
  });
  ASSERT_TRUE(server->Start().ok());
  {
    auto raw = RawConn::Connect(SocketPath());
    ASSERT_TRUE(raw->Send(Req(1, "Kill")));
    ASSERT_TRUE(entered.Wait());
  }  // closed with the request in flight
  release.Open();
  ASSERT_TRUE(NewClient()->Ping().ok());
  // A client that half-closes still gets its answer.
  auto raw = RawConn::Connect(SocketPath());
  ASSERT_TRUE(raw->Send(Req(5, "Kill")));
  shutdown(raw->fd(), SHUT_WR);
  msg::Response r = MustParse(raw->ReadFrame());
  EXPECT_EQ(r.id_json, "5");
  EXPECT_FALSE(r.error);
  EXPECT_TRUE(raw->WaitClosed());
}

TEST_F(CommandSocketTest, ClientTimeoutLeavesTheConnectionUsable) {
  auto server = std::make_unique<Server>(Options());
  Gate release;
  server->Register("Kill", [&](const std::string&) -> absl::StatusOr<std::string> {
    release.Wait();
    return std::string("{}");
  });
  ASSERT_TRUE(server->Start().ok());
  CallDeadlines impatient = HangDeadlines();
  impatient.kill = absl::Milliseconds(50);
  auto c = NewClient(impatient);
  EXPECT_EQ(c->Kill().code(), absl::StatusCode::kDeadlineExceeded);
  release.Open();
  auto pong = c->Ping();  // the late Kill answer is skipped by id
  EXPECT_TRUE(pong.ok()) << pong.status();
  EXPECT_FALSE(c->client().broken());
}

TEST_F(CommandSocketTest, IdleConnectionIsClosedAndTheClientReconnects) {
  ServerOptions o = Options();
  o.idle_timeout = std::chrono::milliseconds(200);
  auto server = StartServer(o);
  auto c = NewClient();
  ASSERT_TRUE(c->Ping().ok());
  auto raw = RawConn::Connect(SocketPath());
  EXPECT_TRUE(raw->WaitClosed());  // the server closed the idle raw connection
  for (int i = 0; i < 600 && server->client_count() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(server->client_count(), 0u);
  auto pong = c->Ping();
  EXPECT_TRUE(pong.ok()) << pong.status();
  EXPECT_EQ(server->stats().accepted, 3u);
}

TEST_F(CommandSocketTest, ConnectWaitsForTheSocketToAppear) {
  std::unique_ptr<Server> server;
  std::thread starter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    server = StartServer(Options());
  });
  auto c = SocketLauncherClient::Connect(SocketPath(), absl::Seconds(60));
  starter.join();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE((*c)->Ping().ok());
  auto none = Client::Connect(dir_.path() + "/nothing-here", absl::ZeroDuration());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnavailable);
}

// Runs `fn` in a child that switched to uid/gid 65534 (nobody); returns its exit status.
int RunAsNobody(const std::function<int()>& fn) {
  pid_t pid = fork();
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(100);
    _exit(fn());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

// Child side: connect, read one frame. 0 = got `unauthorized`, 10+errno = connect failed,
// 2 = other answer, 3 = read failed.
int ConnectAndExpectUnauthorized(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return 10 + std::min(errno, 100);
  }
  const std::string ping = Req(1, "Ping");
  (void)!send(fd, ping.data(), ping.size(), MSG_NOSIGNAL);
  // Exactly one frame: a served client's connection stays open after the answer.
  static char buf[4096];
  size_t have = 0;
  size_t want = 4;
  while (have < want) {
    ssize_t r = read(fd, buf + have, want - have);
    if (r <= 0) return 3;
    have += static_cast<size_t>(r);
    if (have == 4 && want == 4) {
      const auto* h = reinterpret_cast<unsigned char*>(buf);
      want = 4 + ((size_t{h[0]} << 24) | (size_t{h[1]} << 16) | (size_t{h[2]} << 8) | h[3]);
      if (want >= sizeof(buf)) return 3;
    }
  }
  buf[have] = '\0';
  return std::strstr(buf + 4, "-32001") ? 0 : 2;
}

TEST_F(CommandSocketTest, NonAllowedUidIsRefusedAndTheServerKeepsServing) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to switch to uid 65534";
  auto server = StartServer(Options());
  // The 0600 mode alone already keeps uid 65534 out (the dir is 0755 so only the socket's
  // own mode applies)...
  ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
  ASSERT_EQ(chmod((dir_.path() + "/sockets").c_str(), 0755), 0);
  const std::string path = SocketPath();
  EXPECT_EQ(RunAsNobody([&] { return ConnectAndExpectUnauthorized(path); }), 10 + EACCES);
  // ...and when the mode is loosened (a misconfigured mount, a careless operator), the
  // peer-credential check still refuses it.
  ASSERT_EQ(chmod(path.c_str(), 0666), 0);
  EXPECT_EQ(RunAsNobody([&] { return ConnectAndExpectUnauthorized(path); }), 0);
  EXPECT_EQ(server->stats().refused_uid, 1u);
  ASSERT_TRUE(NewClient()->Ping().ok());

  // An explicit allow-list admits that uid.
  server->Stop();
  ServerOptions o = Options();
  o.allowed_uids = {65534};
  auto open = StartServer(o);
  ASSERT_EQ(chmod(path.c_str(), 0666), 0);
  EXPECT_EQ(RunAsNobody([&] { return ConnectAndExpectUnauthorized(path); }), 2);
  // root is no longer in the list.
  auto c = NewClient();
  EXPECT_EQ(c->Ping().status().code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace k6t::rpc
