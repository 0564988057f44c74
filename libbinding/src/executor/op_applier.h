// How each operation is applied: one implementation per operation, each changing only what
// differs and logging the undo step of what it changed. The attribute operations of a link
// (rename, MAC, MTU, master, up, learning) have one model: a run of them on one link is one
// lookup, one kernel change and one undo step, whether it holds one operation or five; a
// create that finds its link already there corrects it through the same model.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "executor/undo_log.h"
#include "k6t/binding/kernel.h"
#include "k6t/binding/plan.h"

namespace k6t::binding {

// The link an attribute operation (MAC, MTU, master, up, learning) sets; nullptr for any
// other operation, RenameLink included (it names the link before and after).
const std::string* AttributeLink(const Operation& op);

// The link a run starting with `op` acts on (a rename's new name, an attribute operation's
// link); nullptr when `op` cannot start a run.
const std::string* RunLink(const Operation& op);

class OpApplier {
 public:
  OpApplier(const Kernel& kernel, UndoLog& undo) : k_(kernel), undo_(undo) {}

  // Applies `ops`: one operation, or a run of attribute operations on RunLink(ops[0]) after
  // it. changed[i] (sized like `ops`) tells whether ops[i] had something to do.
  absl::Status Apply(std::span<const Operation> ops, std::vector<char>& changed);

 private:
  // The link-attribute model: `ops` (a rename first, then attribute operations) against the
  // link's state `cur`, as one ChangeKnownLink and one undo step.
  absl::Status ChangeAttributes(const Link& cur, std::span<const Operation> ops,
                                std::vector<char>& changed);
  // The same for a create that found its link there: only whether anything changed counts.
  absl::Status Correct(const Link& cur, std::span<const Operation> ops);

  absl::Status Do(const CreateBridge& o);
  absl::Status Do(const CreateTap& o);
  absl::Status Do(const CreatePlaceholder& o);
  absl::Status Do(const AddAddress& o);
  absl::Status Do(const FlushAddresses& o);
  absl::Status Do(const AddRoute& o);
  absl::Status Do(const SetSysctl& o);
  absl::Status Do(const NftTable& o);
  absl::Status Do(const DeleteLink& o);
  absl::Status Do(const DeleteNftTable& o);

  void Changed(std::string what, std::function<absl::Status()> undo);
  absl::StatusOr<Link> Must(const std::string& name);
  absl::StatusOr<Link> RenameSubject(const RenameLink& o);
  absl::StatusOr<std::optional<Link>> CreateOrGet(const std::string& name, const std::string& kind,
                                                  const std::string& mac, int mtu);

  const Kernel& k_;
  UndoLog& undo_;
  bool changed_ = false;  // set by Changed(); what a single operation reports
};

}  // namespace k6t::binding
