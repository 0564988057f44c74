// The k6t command protocol between k6t-handler (node side, the client) and k6t-launcher (in the
// pod, the server). This header is the protocol's documentation and holds its messages; the
// transport (framing, the server, the client) is librpc's (k6t/rpc/).
//
// API contract of the functions below: encoders and parsers are pure and thread-safe; parse
// errors are statuses (see each call), never exceptions. No privileges: access control is the
// server's (TRANSPORT).
//
// TRANSPORT
//   A unix stream socket created by the launcher (`--socket PATH`). The file is mode 0600 and
//   its directory, when the launcher creates it, 0700. The server reads each connection's
//   SO_PEERCRED and accepts only allowed uids (by default 0 and the launcher's own euid); any
//   other peer receives one `unauthorized` error response (id null) and is disconnected.
//   Many clients may be connected at once; beyond the server's limit a new connection receives
//   one `busy` error response and is disconnected.
//
// FRAMING
//   Every message, in both directions, is one frame:
//       +--------------------------+----------------------------------+
//       | length: uint32 big-endian | length bytes of UTF-8 JSON text |
//       +--------------------------+----------------------------------+
//   The JSON text is exactly one JSON-RPC 2.0 request (client → server) or response (server →
//   client) object; batches (JSON arrays) are not supported. The maximum frame payload is
//   4 MiB (kDefaultMaxFrameBytes; configurable on both ends). A length above the maximum loses
//   the framing: the server answers with a `resource exhausted` error (id null) without reading
//   the payload, and closes the connection. A zero-length frame is a frame whose payload is
//   not JSON: it is answered with a parse error and the connection stays usable. JSON nesting
//   deeper than kMaxJsonDepth is a parse error.
//   A frame that is started and not completed within the server's frame timeout (10 s by
//   default) gets the connection dropped (slowloris protection); an idle connection is closed
//   after the server's idle timeout (300 s by default). Implemented by k6t/rpc/frame.h.
//
// REQUEST
//   {"jsonrpc":"2.0", "id": <integer or string>, "method": "<Method>", "params": {...}}
//   `id` is required (notifications are not supported: a request without id is an invalid
//   request). `params`, when present, must be an object; absent means {}. Params are checked
//   strictly: a missing required field, a wrong type, an out-of-range value and an unknown
//   field are all `invalid params` errors whose message names the field, e.g.
//   `params.timeout_seconds: must be an integer in [0, 86400]`.
//   Responses to requests pipelined on one connection may come back in any order (a slow
//   SyncVMI does not hold back a Ping); match them by id.
//
// RESPONSE
//   Success: {"jsonrpc":"2.0", "id": <same id>, "result": {...}}
//   Failure: {"jsonrpc":"2.0", "id": <same id or null>,
//             "error": {"code": <int>, "message": "<text>", "data": {"status": "<ABSL_CODE>"}}}
//   `data.status` is the name of the absl::StatusCode the server's handler returned (e.g.
//   "FAILED_PRECONDITION"), so that a client can rebuild the exact absl::Status; the message is
//   passed through unchanged. Results are parsed leniently (unknown fields are ignored) so that a
//   newer launcher can add fields without breaking an older client.
//
// ERROR CODES (ErrorCode below)
//   -32700 parse error         payload is not JSON (or not UTF-8, or nested too deep)
//   -32600 invalid request     not a JSON-RPC 2.0 request object (missing id, bad method, ...)
//   -32601 method not found    no such method               ⇄ absl kUnimplemented
//   -32602 invalid params      params rejected              ⇄ absl kInvalidArgument, kOutOfRange
//   -32603 internal error      the server failed            ⇄ absl kInternal, kDataLoss, kUnknown
//   -32000 server error        any other absl code (kCancelled, kAlreadyExists, kAborted)
//   -32001 unauthorized        peer uid not allowed         ⇄ kPermissionDenied, kUnauthenticated
//   -32002 busy                too many clients / requests  ⇄ kUnavailable
//   -32003 restart required    change needs a VM restart    ⇄ kFailedPrecondition
//   -32004 not found           no domain / no interface     ⇄ kNotFound
//   -32005 resource exhausted  frame or result too large    ⇄ kResourceExhausted
//   -32006 deadline exceeded   the operation timed out      ⇄ kDeadlineExceeded
//
// METHODS (JSON field names exactly as below)
//   Ping             params {}                       result {"version": string}
//       Liveness. Answered on the server's I/O thread, never queued behind other work.
//   SyncVMI          params {"vmi": object}          result {"phase": string,
//                                                            "domain_name": string}
//       `vmi` is a VirtualMachineInstance JSON object (k6t::api::EncodeVmiJson). Defines and
//       starts the domain, or reconciles a running one (hotplug, unplug, link state). Calls of
//       SyncVMI are serialized by the server.
//   Shutdown         params {"timeout_seconds": int} result {}
//       Graceful ACPI power-off; destroy after timeout_seconds (0..86400, default 0 = the
//       launcher's own default).
//   Kill             params {}                       result {}
//       Destroy the domain now.
//   GetDomain        params {}                       result {"state": string, "xml": string,
//                                                      "interfaces": [DomainInterface],
//                                                      "free_root_ports": int}
//       DomainInterface: {"name", "mac", "target", "link_state", "model": string,
//                         "queues": int, "alias": string, "kind": string}
//       `name` is the VMI interface name (matched through the device alias of its plan:
//       `ua-<name>`, or `ua-sriov-<network>` for SR-IOV), `target` the tap device,
//       `link_state` "up" or "down", `queues` 1 when the domain does not say, `kind`
//       "interface" or "hostdev". `free_root_ports` is the number of pcie-root-ports with no
//       device behind them (what hotplug can still use); -1 when there is no domain.
//   GetStatus        params {}                       result {"phase": string,
//                                                      "interfaces": [StatusInterface]}
//       StatusInterface is KubeVirt's `status.interfaces[]` entry, with its JSON names and
//       omitempty behaviour: {"name", "mac", "ipAddress": string, "ipAddresses": [string],
//       "podInterfaceName", "interfaceName", "infoSource": string, "queueCount": int,
//       "linkState": string}. The primary interface comes first. With the QEMU guest agent
//       answering, an interface whose MAC the guest has gets `interfaceName` (the guest's
//       name) and "guest-agent" in `infoSource`; its `ipAddresses` become the guest's (not
//       link-local) except for masquerade and passt, where KubeVirt reports the pod's.
//       Guest interfaces k6t did not plug are listed with infoSource "guest-agent".
//       `guestAgent` (omitted by launchers that do not ask): "connected", or "not connected:
//       <why>" — absent, still starting, or silent for 1 s; GetStatus never waits longer.
//   AttachInterface  params {"name": string}         result {"changed": bool}
//   DetachInterface  params {"name": string}         result {"changed": bool}
//       Hot(un)plug the planned device of the named VMI interface (its plan is re-read from
//       the state dir, where k6t-handler wrote it), live and in the persistent config, and
//       start (stop) its DHCP/RA service; changed=false when it was already in (out of) the
//       domain. Attach with no free pcie-root-port: `restart required`, nothing changed.
//       Detach returns once the guest released the device (or fails with `deadline
//       exceeded` when it does not within 10 s).
//   SetLinkState     params {"name": string, "state": "up"|"down"}
//                                                    result {"changed": bool}
//   Interface names in params are 1..253 bytes.
//
//   Live migration (launcher/README.md "Live migration"; `k6t-handler migrate` drives it):
//   PrepareMigrationTarget  params {"source_xml": string, "migration_interface": string,
//                                   "link_refresh": bool}
//                           result {"dest_uri", "dest_xml", "migrate_uri", "disks_uri": string}
//       To a launcher started with --incoming. `source_xml` is the source's live domain XML
//       (GetDomain's `xml`): the guest's MACs are taken from it, the DHCP servers serve them.
//       `migration_interface` (optional) is the pod link of the dedicated migration network:
//       `migrate_uri` is then tcp:// on its first global address, else unix:// on a socket in
//       the launcher's state dir (both pods on one node). `disks_uri` is where the target
//       takes the copy of the VM's pod-local disks (containerDisk overlays, empty disks):
//       "" on TCP (libvirt's NBD server on the same address), a unix:// socket next to the
//       stream's otherwise. `link_refresh` (default false):
//       once the VM arrived, the link of each bridge/l2bridge interface goes down and up, so
//       that the guest asks DHCP again (KubeVirt's `link-refresh` migration method).
//       FailedPrecondition when the launcher is not waiting for a VM; NotFound when the link
//       or its address is missing.
//   Migrate          params {"dest_uri", "dest_xml", "migrate_uri", "disks_uri": string,
//                            "max_downtime_ms": int, "bandwidth_mib_s": int}
//                                                    result {}
//       To the source launcher: starts moving the VM (live, peer to peer, persistent on the
//       target, undefined here on success) and returns at once; GetMigration follows it.
//       The disks the guest writes in this pod only are copied with it (block migration of
//       their top image; the target made the same empty files over the same bases).
//       FailedPrecondition when no VM runs or a migration is already running.
//       max_downtime_ms 0..60000 (0: QEMU's 300 ms), bandwidth_mib_s 0..1048576 (0: no cap).
//   GetMigration     params {}                       result {"state", "message": string,
//                         "data_total", "data_processed", "data_remaining", "iteration",
//                         "dirty_rate", "expected_downtime_ms", "elapsed_ms": int}
//       `state`: "none", "running", "completed", "failed" or "cancelled"; `message` says why
//       it failed. Data figures in bytes, dirty_rate in pages/s (libvirt's job statistics).
//   AbortMigration   params {}                       result {"changed": bool}
//       Cancels a running migration; the VM keeps running on the source. changed=false when
//       none was running.
//
// C++ BOUNDARY
//   This header does not expose nlohmann::json: JSON crosses it as std::string text, and every
//   typed message has ToJson() and FromJson() overloads. Nothing here throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace k6t::api::rpc {

// Besides the command socket: the VM's serial console, a unix stream socket the launcher's
// libvirt binds at <state dir>/kSerialConsoleSocket (raw bytes both ways, no framing; one
// client at a time; root only). `k6t-handler console` attaches a terminal to it.
inline constexpr char kSerialConsoleSocket[] = "serial0.sock";
// And VNC (RFB), when the VMI has a graphics device (autoattachGraphicsDevice not false), in
// a directory of the QEMU user's (QEMU creates that socket itself).
inline constexpr char kVncSocket[] = "vnc/vnc.sock";

inline constexpr size_t kDefaultMaxFrameBytes = 4u << 20;
inline constexpr size_t kFrameHeaderBytes = 4;
inline constexpr int kMaxJsonDepth = 64;
inline constexpr int64_t kMaxShutdownTimeoutSeconds = 86400;
inline constexpr size_t kMaxInterfaceNameBytes = 253;
inline constexpr size_t kMaxResultInterfaces = 1024;

inline constexpr char kMethodPing[] = "Ping";
inline constexpr char kMethodSyncVmi[] = "SyncVMI";
inline constexpr char kMethodShutdown[] = "Shutdown";
inline constexpr char kMethodKill[] = "Kill";
inline constexpr char kMethodGetDomain[] = "GetDomain";
inline constexpr char kMethodGetStatus[] = "GetStatus";
inline constexpr char kMethodAttachInterface[] = "AttachInterface";
inline constexpr char kMethodDetachInterface[] = "DetachInterface";
inline constexpr char kMethodSetLinkState[] = "SetLinkState";
inline constexpr char kMethodPrepareMigrationTarget[] = "PrepareMigrationTarget";
inline constexpr char kMethodMigrate[] = "Migrate";
inline constexpr char kMethodGetMigration[] = "GetMigration";
inline constexpr char kMethodAbortMigration[] = "AbortMigration";

// ---------------------------------------------------------------------------------------------
// JSON-RPC envelope

enum class ErrorCode : int {
  kParseError = -32700,
  kInvalidRequest = -32600,
  kMethodNotFound = -32601,
  kInvalidParams = -32602,
  kInternalError = -32603,
  kServerError = -32000,
  kUnauthorized = -32001,
  kBusy = -32002,
  kRestartRequired = -32003,
  kNotFound = -32004,
  kResourceExhausted = -32005,
  kDeadlineExceeded = -32006,
};

struct Error {
  int code = static_cast<int>(ErrorCode::kInternalError);
  std::string message;
  // absl::StatusCode name carried in error.data.status ("" when absent).
  std::string status;
};
// An error of the protocol itself (no absl status behind it: data.status stays empty).
Error MakeError(ErrorCode code, std::string message);

struct Request {
  std::string id_json = "null";  // the id exactly as JSON text: 7 or "abc"
  std::string method;
  std::string params_json = "{}";  // always an object
};

struct Response {
  std::string id_json = "null";
  std::optional<Error> error;  // set: failure; unset: success with result_json
  std::string result_json = "{}";
};

// The outcome of parsing one request frame. On failure `error` is set and `id_json` holds the
// request's id when it could be read (so the error response can carry it), else "null".
struct ParsedRequest {
  std::optional<Request> request;
  std::optional<Error> error;
  std::string id_json = "null";
};
ParsedRequest ParseRequest(std::string_view payload);

// Client side. Malformed responses are kInternal/kDataLoss errors describing the problem.
absl::StatusOr<Response> ParseResponse(std::string_view payload);

// Envelope encoders. `result_json`/`params_json` must be valid JSON; if not, the encoders
// produce an internal-error response / an empty params object rather than an invalid frame.
std::string EncodeRequest(const Request& request);
std::string EncodeResult(const std::string& id_json, const std::string& result_json);
std::string EncodeError(const std::string& id_json, const Error& error);

// Status ⇄ error. OK maps to nothing meaningful (callers do not map success).
Error StatusToError(const absl::Status& status);
absl::Status ErrorToStatus(const Error& error);
int ErrorCodeForStatus(absl::StatusCode code);

// True when `text` is one JSON value within kMaxJsonDepth.
bool IsValidJson(std::string_view text);

// ---------------------------------------------------------------------------------------------
// Typed params and results. Parse errors are kInvalidArgument naming the field ("params.name: ..."
// or "result.interfaces[1].queueCount: ...").

struct Empty {};  // params of Ping, Kill, GetDomain, GetStatus; result of Shutdown, Kill

struct PingResult {
  std::string version;
};

struct SyncVmiParams {
  std::string vmi_json;  // a JSON object, as text
};
struct SyncVmiResult {
  std::string phase;
  std::string domain_name;
};

struct ShutdownParams {
  int64_t timeout_seconds = 0;
};

struct DomainInterface {
  std::string name;
  std::string mac;
  std::string target;
  std::string link_state;
  std::string model;
  int64_t queues = 1;
  std::string alias;
  std::string kind = "interface";  // "interface" | "hostdev"
  bool operator==(const DomainInterface&) const = default;
};
struct GetDomainResult {
  std::string state;
  std::string xml;
  std::vector<DomainInterface> interfaces;
  int64_t free_root_ports = -1;
};

// KubeVirt's VirtualMachineInstanceNetworkInterface (reference §8.3).
struct StatusInterface {
  std::string name;
  std::string mac;
  std::string ip_address;
  std::vector<std::string> ip_addresses;
  std::string pod_interface_name;
  std::string interface_name;
  std::string info_source;
  int64_t queue_count = 0;  // 0 = omitted
  std::string link_state;
  bool operator==(const StatusInterface&) const = default;
};
struct GetStatusResult {
  std::string phase;
  std::vector<StatusInterface> interfaces;
  std::string guest_agent;  // "connected", "not connected: <why>"; "" = not asked
};

struct InterfaceParams {  // AttachInterface, DetachInterface
  std::string name;
};
struct SetLinkStateParams {
  std::string name;
  std::string state;  // "up" | "down"
};
struct ChangedResult {
  bool changed = false;
};

struct PrepareMigrationTargetParams {
  std::string source_xml;
  std::string migration_interface;
  bool link_refresh = false;
};
struct PrepareMigrationTargetResult {
  std::string dest_uri;
  std::string dest_xml;
  std::string migrate_uri;
  std::string disks_uri;
};
struct MigrateParams {
  std::string dest_uri;
  std::string dest_xml;
  std::string migrate_uri;
  std::string disks_uri;
  int64_t max_downtime_ms = 0;
  int64_t bandwidth_mib_s = 0;
};
struct GetMigrationResult {
  std::string state = "none";  // none | running | completed | failed | cancelled
  std::string message;
  int64_t data_total = 0;
  int64_t data_processed = 0;
  int64_t data_remaining = 0;
  int64_t iteration = 0;
  int64_t dirty_rate = 0;
  int64_t expected_downtime_ms = 0;
  int64_t elapsed_ms = 0;
};

// Params parsers and encoders.
absl::Status FromJson(std::string_view json, Empty* out);
absl::Status FromJson(std::string_view json, SyncVmiParams* out);
absl::Status FromJson(std::string_view json, ShutdownParams* out);
absl::Status FromJson(std::string_view json, InterfaceParams* out);
absl::Status FromJson(std::string_view json, SetLinkStateParams* out);
std::string ToJson(const Empty&);
std::string ToJson(const SyncVmiParams& v);  // "{}" + vmi; an invalid vmi_json encodes as null
std::string ToJson(const ShutdownParams& v);
std::string ToJson(const InterfaceParams& v);
std::string ToJson(const SetLinkStateParams& v);
absl::Status FromJson(std::string_view json, PrepareMigrationTargetParams* out);
absl::Status FromJson(std::string_view json, MigrateParams* out);
std::string ToJson(const PrepareMigrationTargetParams& v);
std::string ToJson(const MigrateParams& v);

// Result parsers and encoders.
absl::Status FromJson(std::string_view json, PingResult* out);
absl::Status FromJson(std::string_view json, SyncVmiResult* out);
absl::Status FromJson(std::string_view json, GetDomainResult* out);
absl::Status FromJson(std::string_view json, GetStatusResult* out);
absl::Status FromJson(std::string_view json, ChangedResult* out);
std::string ToJson(const PingResult& v);
std::string ToJson(const SyncVmiResult& v);
std::string ToJson(const GetDomainResult& v);
std::string ToJson(const GetStatusResult& v);
std::string ToJson(const ChangedResult& v);
absl::Status FromJson(std::string_view json, PrepareMigrationTargetResult* out);
absl::Status FromJson(std::string_view json, GetMigrationResult* out);
std::string ToJson(const PrepareMigrationTargetResult& v);
std::string ToJson(const GetMigrationResult& v);

}  // namespace k6t::api::rpc
