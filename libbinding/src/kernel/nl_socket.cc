#include "kernel/nl_socket.h"

#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/socket.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "k6t/api/errno_status.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

namespace k6t::binding::kernel {
namespace {

constexpr size_t kRecvBufferSize = 64 * 1024;

struct RecvCtx {
  const NlSocket::OnMessage* on_reply = nullptr;
  bool acked = false;
  bool done = false;
  bool interrupted = false;
};

int OnValid(nl_msg* msg, void* arg) {
  auto* ctx = static_cast<RecvCtx*>(arg);
  nlmsghdr* hdr = nlmsg_hdr(msg);
  if (hdr->nlmsg_flags & NLM_F_DUMP_INTR) ctx->interrupted = true;
  if (ctx->on_reply && *ctx->on_reply) return (*ctx->on_reply)(hdr);
  return NL_OK;
}

int OnAck(nl_msg*, void* arg) {
  static_cast<RecvCtx*>(arg)->acked = true;
  return NL_STOP;
}

int OnFinish(nl_msg* msg, void* arg) {
  auto* ctx = static_cast<RecvCtx*>(arg);
  if (nlmsg_hdr(msg)->nlmsg_flags & NLM_F_DUMP_INTR) ctx->interrupted = true;
  ctx->done = true;
  return NL_STOP;
}

// An errno for failures libnl detected itself (no kernel NLMSG_ERROR).
int ErrnoForNle(int nle) {
  switch (nle < 0 ? -nle : nle) {
    case NLE_NOMEM:
      return ENOMEM;
    case NLE_EXIST:
      return EEXIST;
    case NLE_OBJ_NOTFOUND:
      return ENODEV;
    case NLE_NODEV:
      return ENODEV;
    case NLE_PERM:
      return EPERM;
    case NLE_OPNOTSUPP:
      return EOPNOTSUPP;
    case NLE_INVAL:
      return EINVAL;
    case NLE_RANGE:
      return ERANGE;
    case NLE_BUSY:
      return EBUSY;
    case NLE_AGAIN:
      return EAGAIN;
    case NLE_NOADDR:
      return EADDRNOTAVAIL;
    case NLE_NOACCESS:
      return EACCES;
    default:
      return 0;
  }
}

}  // namespace

absl::StatusOr<NetnsId> CurrentNetns() {
  thread_local std::optional<NetnsId> self;
  if (self) return *self;
  struct stat st;
  if (stat("/proc/thread-self/ns/net", &st) != 0)
    return api::ErrnoStatus("stat /proc/thread-self/ns/net", errno);
  self = NetnsId{st.st_dev, st.st_ino};
  return *self;
}

absl::StatusOr<std::unique_ptr<NlSocket>> NlSocket::Open() {
  auto ns = CurrentNetns();
  if (!ns.ok()) return ns.status();
  nl_sock* sk = nl_socket_alloc();
  if (!sk) return absl::ResourceExhaustedError("netlink: cannot allocate a socket");
  if (int err = nl_connect(sk, NETLINK_ROUTE); err < 0) {
    nl_socket_free(sk);
    return absl::InternalError(absl::StrCat("netlink: connect: ", nl_geterror(err)));
  }
  int one = 1;
  // The kernel's own explanation of a failure, and kernel-side filtering of dumps by
  // ifindex/table so that listing one link's addresses never walks the whole namespace.
  setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
  // One recvmsg per message: libnl otherwise peeks at each one first to size its buffer
  // (two system calls per reply and per ack). The kernel sizes dump batches to the reader's
  // buffer (at most 32 KiB); a larger single message fails with NLE_MSG_TRUNC, not silently.
  nl_socket_disable_msg_peek(sk);
  if (int err = nl_socket_set_msg_buf_size(sk, kRecvBufferSize); err < 0) {
    nl_socket_free(sk);
    return absl::InternalError(absl::StrCat("netlink: buffer size: ", nl_geterror(err)));
  }
  std::unique_ptr<NlSocket> s(new NlSocket(sk, *ns));
  nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, &NlSocket::OnError, s.get());
  return s;
}

NlSocket::~NlSocket() { nl_socket_free(sk_); }

int NlSocket::OnError(sockaddr_nl*, nlmsgerr* err, void* self) {
  auto* s = static_cast<NlSocket*>(self);
  s->last_errno_ = -err->error;
  s->last_ext_ack_.clear();
  // The NLMSG_ERROR header sits right before its payload; the extended-ack TLVs follow the
  // echoed request (or just its header when capped).
  auto* hdr = reinterpret_cast<nlmsghdr*>(reinterpret_cast<char*>(err) - NLMSG_HDRLEN);
  if (hdr->nlmsg_flags & NLM_F_ACK_TLVS) {
    size_t payload = sizeof(*err);
    if (!(hdr->nlmsg_flags & NLM_F_CAPPED)) payload += err->msg.nlmsg_len - NLMSG_HDRLEN;
    size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(payload);
    if (off < hdr->nlmsg_len) {
      auto* attr = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(hdr) + off);
      int rem = static_cast<int>(hdr->nlmsg_len - off);
      for (; nla_ok(attr, rem); attr = nla_next(attr, &rem)) {
        if (nla_type(attr) == NLMSGERR_ATTR_MSG && nla_len(attr) > 0) {
          s->last_ext_ack_.assign(static_cast<const char*>(nla_data(attr)),
                                  strnlen(static_cast<const char*>(nla_data(attr)),
                                          static_cast<size_t>(nla_len(attr))));
        }
      }
    }
  }
  return NL_STOP;
}

namespace {

// Sends `msg` (freed here) and reads replies until the kernel's ack (a request) or the
// end of the dump.
int SendAndReceive(nl_sock* sk, nl_msg* msg, RecvCtx& ctx, bool dump) {
  int err = nl_send_auto(sk, msg);
  nlmsg_free(msg);
  if (err < 0) return err;
  nl_cb* base = nl_socket_get_cb(sk);
  nl_cb* cb = nl_cb_clone(base);
  nl_cb_put(base);
  if (!cb) return -NLE_NOMEM;
  nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, OnValid, &ctx);
  if (dump)
    nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, OnFinish, &ctx);
  else
    nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, OnAck, &ctx);
  // A reply and its ack arrive in separate datagrams: read until the ack (or NLMSG_DONE).
  err = 0;
  while (!(dump ? ctx.done : ctx.acked) && err == 0) err = nl_recvmsgs(sk, cb);
  nl_cb_put(cb);
  return err;
}

}  // namespace

int NlSocket::Request(nl_msg* msg, const OnMessage& on_reply) {
  ClearError();
  RecvCtx ctx{&on_reply};
  return SendAndReceive(sk_, msg, ctx, /*dump=*/false);
}

int NlSocket::Dump(const std::function<nl_msg*()>& build, const OnMessage& on_reply) {
  int err = 0;
  for (int attempt = 0; attempt < 5; ++attempt) {
    ClearError();
    nl_msg* msg = build();
    if (!msg) return -NLE_NOMEM;
    RecvCtx ctx{&on_reply};
    err = SendAndReceive(sk_, msg, ctx, /*dump=*/true);
    if (err == -NLE_DUMP_INTR || (err == 0 && ctx.interrupted)) {
      err = -NLE_DUMP_INTR;
      continue;
    }
    return err;
  }
  return err;
}

absl::Status NlSocket::Error(int nl_err, const std::string& what) const {
  int e = last_errno_ ? last_errno_ : ErrnoForNle(nl_err);
  std::string text = last_errno_ ? api::ErrnoText(last_errno_) : nl_geterror(nl_err);
  if (!last_ext_ack_.empty()) text = absl::StrCat(last_ext_ack_, " (", text, ")");
  absl::StatusCode code = e ? api::StatusCodeForErrno(e) : absl::StatusCode::kInternal;
  return absl::Status(code, absl::StrCat(what, ": ", text));
}

}  // namespace k6t::binding::kernel
