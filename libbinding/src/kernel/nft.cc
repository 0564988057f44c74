// nftables through libnftables. One nft_run_cmd_from_buffer call is one netlink batch, i.e.
// one kernel transaction: ReplaceTable puts "add; delete; define" in a single buffer, so a
// body the kernel rejects leaves the previous table exactly as it was.
#include <nftables/libnftables.h>

#include <mutex>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "k6t/binding/kernel.h"
#include "kernel/nl_socket.h"
#include "spdlog/spdlog.h"

namespace k6t::binding {
namespace {

bool ValidFamily(const std::string& f) {
  return f == "ip" || f == "ip6" || f == "inet" || f == "arp" || f == "bridge" || f == "netdev";
}

bool ValidName(const std::string& n) {
  if (n.empty() || n.size() > 255) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-' || c == '.'))
      return false;
  return true;
}

// The body goes inside "table F N { ... }": it must not close that block early and smuggle
// further commands into the transaction.
bool BalancedBraces(const std::string& body) {
  int depth = 0;
  bool quoted = false;
  for (char c : body) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '{') ++depth;
    if (c == '}' && --depth < 0) return false;
  }
  return depth == 0 && !quoted;
}

class NftImpl : public Nft {
 public:
  ~NftImpl() override {
    if (ctx_) nft_ctx_free(ctx_);
  }

  absl::Status ReplaceTable(const std::string& family, const std::string& name,
                            const std::string& body) override {
    const std::string what = absl::StrCat("replace nft table ", family, " ", name);
    if (auto st = Check(family, name, what); !st.ok()) return st;
    if (!BalancedBraces(body))
      return absl::InvalidArgumentError(what + ": body has unbalanced braces or quotes");
    std::string t = absl::StrCat(family, " ", name);
    // A transaction that deletes a table makes the socket's close wait for the kernel's
    // deferred cleanup (~10 ms); when there is nothing to replace, only define it. Whether
    // it exists is what the caller's ListTable just found (the executor lists before it
    // replaces), else a listing of its own.
    bool exists = false;
    if (auto known = TakeListed(family, name)) {
      exists = *known;
    } else {
      auto existing = ListTable(family, name);
      if (!existing.ok()) return existing.status();
      exists = existing->has_value();
      listed_.reset();
    }
    std::string cmd = exists ? absl::StrCat("add table ", t, "\ndelete table ", t, "\n") : "";
    absl::StrAppend(&cmd, "table ", t, " {\n", body, "\n}\n");
    auto out = Run(cmd, what);
    if (!out.ok()) return out.status();
    return absl::OkStatus();
  }

  absl::Status DeleteTable(const std::string& family, const std::string& name) override {
    const std::string what = absl::StrCat("delete nft table ", family, " ", name);
    listed_.reset();
    if (auto st = Check(family, name, what); !st.ok()) return st;
    // "add" first makes the delete of an absent table a no-op, in the same transaction.
    std::string t = absl::StrCat(family, " ", name);
    auto out = Run(absl::StrCat("add table ", t, "\ndelete table ", t, "\n"), what);
    if (!out.ok()) return out.status();
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<std::string>> ListTable(const std::string& family,
                                                       const std::string& name) override {
    const std::string what = absl::StrCat("list nft table ", family, " ", name);
    if (auto st = Check(family, name, what); !st.ok()) return st;
    bool absent = false;
    listed_.reset();
    auto out = Run(absl::StrCat("list table ", family, " ", name, "\n"), what, &absent);
    if (absent) {
      listed_ = Listed{ns_, family, name, false};
      return std::optional<std::string>();
    }
    if (!out.ok()) return out.status();
    listed_ = Listed{ns_, family, name, true};
    return std::optional<std::string>(std::move(*out));
  }

 private:
  static absl::Status Check(const std::string& family, const std::string& name,
                            const std::string& what) {
    if (!ValidFamily(family))
      return absl::InvalidArgumentError(absl::StrCat(what, ": unknown family \"", family, "\""));
    if (!ValidName(name))
      return absl::InvalidArgumentError(absl::StrCat(what, ": invalid table name"));
    return absl::OkStatus();
  }

  // A context talks to the namespace it was created in: follow the caller if it moved.
  absl::Status Ctx() {
    auto ns = kernel::CurrentNetns();
    if (!ns.ok()) return ns.status();
    if (ctx_ && ns_ == *ns) return absl::OkStatus();
    if (ctx_) nft_ctx_free(ctx_);
    ctx_ = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!ctx_) return absl::InternalError("nft: cannot create a libnftables context");
    nft_ctx_buffer_output(ctx_);
    nft_ctx_buffer_error(ctx_);
    ns_ = *ns;
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Run(const std::string& cmd, const std::string& what,
                                  bool* absent = nullptr) {
    if (auto st = Ctx(); !st.ok()) return st;
    int rc = nft_run_cmd_from_buffer(ctx_, cmd.c_str());
    // The buffers are reset by the next get, so read both every time.
    std::string out = nft_ctx_get_output_buffer(ctx_);
    std::string err = nft_ctx_get_error_buffer(ctx_);
    if (rc == 0) return out;
    if (absent) *absent = err.find("No such file or directory") != std::string::npos;
    absl::StatusCode code = absl::StatusCode::kInternal;
    if (err.find("No such file or directory") != std::string::npos)
      code = absl::StatusCode::kNotFound;
    else if (err.find("Operation not permitted") != std::string::npos)
      code = absl::StatusCode::kPermissionDenied;
    else if (err.find("Error:") != std::string::npos)
      code = absl::StatusCode::kInvalidArgument;
    std::string text(absl::StripTrailingAsciiWhitespace(err));
    spdlog::debug("nft: {} failed: {}", what, text);
    return absl::Status(code, absl::StrCat(what, ": ", text));
  }

  // Whether the table the last call listed exists, when that call was a ListTable of
  // `family name` in the caller's current namespace; forgotten once asked.
  std::optional<bool> TakeListed(const std::string& family, const std::string& name) {
    std::optional<Listed> l = std::move(listed_);
    listed_.reset();
    auto ns = kernel::CurrentNetns();
    if (!l || !ns.ok() || !(l->ns == *ns) || l->family != family || l->name != name)
      return std::nullopt;
    return l->exists;
  }

  struct Listed {
    kernel::NetnsId ns;
    std::string family, name;
    bool exists = false;
  };
  nft_ctx* ctx_ = nullptr;
  kernel::NetnsId ns_;
  std::optional<Listed> listed_;  // set by ListTable, taken by the next ReplaceTable
};

}  // namespace

std::unique_ptr<Nft> NewNft() { return std::make_unique<NftImpl>(); }

}  // namespace k6t::binding
