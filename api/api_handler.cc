#include "api/api_handler.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <optional>

#include "api/envelope.h"
#include "api/error_mapper.h"
#include "api/request_builder.h"
#include "api/request_forwarder.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/version.h"
#include "core/core.h"
#include "metrics/exposition.h"

namespace sealbox::api {
namespace {

HttpResponse JsonResponse(int status, const Json& body) {
  HttpResponse r;
  r.status = status;
  r.body = DumpJson(body);
  AddStandardHeaders(r, true);
  return r;
}

Json SealStatusJson(const core::SealStatus& st) {
  Json j = {{"type", st.seal_type},
            {"initialized", st.initialized},
            {"sealed", st.sealed},
            {"t", st.t},
            {"n", st.n},
            {"progress", st.progress},
            {"nonce", st.nonce},
            {"version", kVaultApiVersion},
            {"build_date", kBuildDate},
            {"migration", false},
            {"recovery_seal", st.recovery_seal},
            {"storage_type", st.storage_type}};
  if (!st.sealed) {
    j["cluster_name"] = st.cluster_name;
    j["cluster_id"] = st.cluster_id;
  }
  return j;
}

// True unless the headers promise a body of at most `small` bytes (a
// Content-Length that says so, or no body at all).
bool ClaimsLargeBody(const HttpRequest& head, size_t small) {
  if (head.HasHeader("transfer-encoding")) return true;
  const std::string_view length = head.Header("content-length");
  size_t n = 0;
  auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), n);
  return !length.empty() && (ec != std::errc() || end != length.data() + length.size() || n > small);
}

// Case-insensitive field lookup, as Go's JSON decoding matches struct fields.
const Json* FindField(const Json& obj, std::string_view name) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& k = it.key();
    if (k.size() == name.size() &&
        std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return &it.value();
  }
  return nullptr;
}

// Vault's X-Ratelimit-* headers (enable_rate_limit_response_headers).
void AddRateLimitHeaders(HttpResponse& r, const core::RateDecision& d) {
  r.headers.emplace_back("X-Ratelimit-Limit", std::to_string(d.limit));
  r.headers.emplace_back("X-Ratelimit-Remaining", std::to_string(d.remaining));
  r.headers.emplace_back("X-Ratelimit-Reset", std::to_string(d.reset_secs));
}

// Over a rate-limit quota: 429 with Vault's text; Retry-After always (Vault
// sends it only with the X-Ratelimit-* headers).
std::string RateLimitedMessage(const std::string& path) {
  return "request path \"" + path + "\": rate limit quota exceeded";
}

HttpResponse RateLimitedResponse(const std::string& path, const core::RateLimitOutcome& q) {
  HttpResponse r = ErrorResponse(429, RateLimitedMessage(path));
  r.headers.emplace_back("Retry-After", std::to_string(q.decision.retry_after));
  if (q.send_headers) AddRateLimitHeaders(r, q.decision);
  return r;
}

class ApiHandler;

// A snapshot restore's body is the archive itself, not JSON: the backend
// reads it from raw_body.
bool TakesRawBody(const logical::Request& req) {
  return req.op == logical::Operation::kUpdate &&
         (req.path == "sys/storage/raft/snapshot" || req.path == "sys/storage/raft/snapshot-force");
}

// The raw sys endpoints, answered here rather than through the core's router
// (they work sealed and uninitialised, as Vault's).
enum class RawEndpoint { kNone, kInit, kSealStatus, kUnseal, kHealth, kLeader, kMetrics };

RawEndpoint RawEndpointFor(const std::string& path) {
  if (path == "sys/init") return RawEndpoint::kInit;
  if (path == "sys/seal-status") return RawEndpoint::kSealStatus;
  if (path == "sys/unseal") return RawEndpoint::kUnseal;
  if (path == "sys/health") return RawEndpoint::kHealth;
  if (path == "sys/leader") return RawEndpoint::kLeader;
  return RawEndpoint::kNone;
}

RunOn RunOnFor(logical::RunMode mode) {
  switch (mode) {
    case logical::RunMode::kNonBlocking: return RunOn::kIoThread;
    case logical::RunMode::kComputes: return RunOn::kComputePool;
    case logical::RunMode::kWaits: return RunOn::kWaitPool;
  }
  return RunOn::kWaitPool;
}

// One request between Begin and its end: either answered already (an error
// found while preparing), a raw sys endpoint, or a routed request bound to
// its mount.
class ApiCall final : public HttpCall {
 public:
  ApiCall(ApiHandler* handler, const HttpRequest& http)
      : handler_(handler), http_(http), start_(std::chrono::steady_clock::now()) {}
  RunOn run_on() const override { return run_on_; }
  Task<HttpResponse> RunAsync(Resumer* resumer) override;

  ApiHandler* handler_;
  const HttpRequest& http_;
  RunOn run_on_ = RunOn::kIoThread;
  std::optional<HttpResponse> answered_;
  RawEndpoint raw_ = RawEndpoint::kNone;
  bool forward_ = false;  // a standby's request for the active node
  ParsedTarget target_;
  core::RoutedRequest routed_;
  core::InFlightRequests::Ticket in_flight_;  // listed in sys/in-flight-req while it lives

 private:
  Task<HttpResponse> Run(Resumer* resumer);
  void RequestLog(int status) const;

  std::chrono::steady_clock::time_point start_;
};

class ApiHandler final : public HttpHandler {
 public:
  ApiHandler(core::Core* core, ApiOptions options) : core_(core), options_(options) { limits_.json = options.json; }

  // Only a caller whose token resolves, on a path that needs one, may send
  // a large body: anyone else is refused before a byte of it is read. The
  // token is looked up only for a body that claims to be large (or chunked).
  size_t BodyLimit(const HttpRequest& head) const override {
    const size_t small = options_.max_unauthenticated_request_size;
    const std::string_view token = RequestToken(head);
    if (!ClaimsLargeBody(head, small) || token.empty()) return small;
    auto target = ParseTarget(head.target);
    if (!target.ok() || !target->is_api) return small;
    const std::string& p = target->path;
    if (p == "sys/init" || p == "sys/unseal" || core_->IsUnauthenticated(p)) return small;
    if (core_->Sealed()) return SIZE_MAX;  // answered 503, the body unparsed (HandleInner)
    if (core_->Standby()) return SIZE_MAX;  // forwarded: the active node vouches or refuses
    return core_->TokenResolves(token) ? SIZE_MAX : small;
  }

  std::unique_ptr<HttpCall> Begin(const HttpRequest& http) override {
    auto call = std::make_unique<ApiCall>(this, http);
    Prepare(*call);
    return call;
  }

  // A standby's routed request, answered by the active node; when it could
  // not be sent there, a redirect there.
  Task<HttpResponse> Forward(const HttpRequest& http, Resumer* resumer) {
    core::HaStatus ha = core_->GetHaStatus();
    ForwardTarget to{.cluster_addr = ha.leader_cluster_addr,
                     .identity = core_->ClusterTls(),
                     .timeout_ms = options_.forward_timeout_ms,
                     .max_response_body = options_.max_request_size};
    auto r = co_await ForwardToActive(*options_.forward_client, to, http, resumer);
    if (r.ok()) co_return std::move(r).value();
    if (r.status().code() == StatusCode::kOutcomeUnknown) co_return ErrorFromStatus(r.status());
    co_return StandbyRedirect(http.target);
  }

  // Runs a raw sys endpoint.
  HttpResponse Raw(RawEndpoint which, const HttpRequest& http, const ParsedTarget& target) {
    switch (which) {
      case RawEndpoint::kInit: return Init(http);
      case RawEndpoint::kSealStatus: return SealStatus(http);
      case RawEndpoint::kUnseal: return Unseal(http);
      case RawEndpoint::kHealth: return Health(http, target);
      case RawEndpoint::kLeader: return Leader(http);
      case RawEndpoint::kMetrics: return Metrics(http, target);
      case RawEndpoint::kNone: break;
    }
    return ErrorResponse(404, "");
  }

  // Parses the body of a routed request, then runs it through the core.
  Task<HttpResponse> RunRouted(core::RoutedRequest& routed, const HttpRequest& http, Resumer* resumer) {
    // A large body is parsed only for a token that resolves: one that does
    // not is refused before its body costs more than the bytes received.
    const bool parse_body = http.body.size() <= options_.max_unauthenticated_request_size ||
                            core_->TokenResolves(RequestToken(http));
    if (parse_body && !TakesRawBody(routed.request)) {
      Status body = ParseRequestBody(http, limits_, routed.request);
      if (!body.ok()) co_return ErrorFromStatus(body);
    }
    const core::RateLimitOutcome quota = core_->ApplyRateLimit(routed);
    if (quota.applies && !quota.decision.allowed) {
      // Refused either way: a device that cannot record it is counted there.
      (co_await core_->AuditRateLimited(routed, RateLimitedMessage(routed.request.path), resumer)).IgnoreError();
      co_return RateLimitedResponse(routed.request.path, quota);
    }
    auto resp = co_await core_->HandleRequestAsync(routed, resumer);
    if (!resp.ok() && resp.status().code() == StatusCode::kNotActive) {
      // A standby's read that could not be served here, without effect.
      if (http.via_cluster) co_return ErrorResponse(kNotActiveStatus, "node not active");
      if (ForwardingRefused(http)) co_return StandbyRedirect(http.target);
      co_return co_await Forward(http, resumer);
    }
    HttpResponse out =
        resp.ok() ? RenderResponse(routed.request, std::move(resp).value()) : ErrorFromStatus(resp.status());
    if (quota.applies && quota.send_headers) AddRateLimitHeaders(out, quota.decision);
    co_return out;
  }

 private:
  // Everything up to the route, without reading the body: what is refused at
  // once is answered here, the rest is bound to its mount.
  void Prepare(ApiCall& call) {
    const HttpRequest& http = call.http_;
    auto answer = [&](HttpResponse r) { call.answered_ = std::move(r); };
    if (options_.max_request_size > 0 && http.body.size() > options_.max_request_size)
      return answer(ErrorResponse(413, "request body too large"));
    auto target = ParseTarget(http.target);
    if (!target.ok()) return answer(ErrorFromStatus(target.status()));
    if (!target->is_api) return answer(ErrorResponse(404, ""));

    // Contract decision 1: one namespace.
    std::string_view ns = http.Header("x-vault-namespace");
    if (!ns.empty() && ns != "root" && ns != "root/") return answer(ErrorResponse(400, "namespaces are not supported"));

    const std::string& p = target->path;
    // As OpenBao 2.5+: unless the listener turns them on, the token-free
    // break-glass endpoints do not exist (anyone reaching them could cancel
    // a ceremony in progress); sys/generate-root-token/* takes a sudo token.
    // (sys/rekey/backup takes a sudo token: it stays.)
    if ((options_.disable_unauthed_generate_root && p.rfind("sys/generate-root/", 0) == 0) ||
        (options_.disable_unauthed_rekey && p != "sys/rekey/backup" &&
         (p.rfind("sys/rekey/", 0) == 0 || p.rfind("sys/rekey-recovery-key/", 0) == 0)))
      return answer(ErrorResponse(405, "unsupported operation"));
    call.raw_ = RawEndpointFor(p);
    if (p == "sys/metrics" && options_.unauthenticated_metrics_access) {
      call.raw_ = RawEndpoint::kMetrics;
      call.run_on_ = RunOn::kComputePool;  // reads /proc, may recount tokens and leases
      call.target_ = std::move(target).value();
      return;
    }
    if (call.raw_ != RawEndpoint::kNone) {
      // Reads answer from memory; init and unseal write and derive keys.
      call.run_on_ = http.method == "GET" || http.method == "HEAD" ? RunOn::kIoThread : RunOn::kWaitPool;
      call.target_ = std::move(target).value();
      return;
    }
    if (http.method == "HEAD") return answer(ErrorResponse(405, ""));
    const bool standby = core_->Standby();
    // Forwarded once at most: a node that lost the lock since says so.
    if (standby && http.via_cluster) return answer(ErrorResponse(kNotActiveStatus, "node not active"));
    // Sealing a sealed server has nothing left to protect: 204, as Vault.
    if (p == "sys/seal" && (http.method == "PUT" || http.method == "POST") && core_->Sealed()) {
      HttpResponse r;
      r.status = 204;
      r.headers.emplace_back("Cache-Control", "no-store");
      return answer(std::move(r));
    }
    auto req = BuildRequest(http, *target, limits_, BodyParsing::kDeferred);
    if (!req.ok()) return answer(ErrorFromStatus(req.status()));
    call.routed_.request = std::move(req).value();
    if (p == "sys/metrics") AcceptAsFormat(http, call.routed_.request.data);
    core_->Route(call.routed_);
    call.run_on_ = RunOnFor(call.routed_.run_mode);
    if (standby) {
      // Vault's header for a read that must see what the active node sees
      // without waiting (here every standby read does; honoured anyway).
      const bool to_active = http.Header("x-vault-inconsistent") == "forward-active-node";
      if (to_active || !core_->ServesOnStandby(call.routed_)) return ToActive(call);
      // Served here once caught up with the active's writes: the request
      // suspends meanwhile, where its route runs (no thread of its own).
      call.routed_.standby_read = true;
    }
    call.in_flight_ = core_->in_flight().Add(call.routed_.request.id, InFlightEntry(http));
  }

  // A standby's request for the active node: forwarded, or redirected there.
  void ToActive(ApiCall& call) {
    const HttpRequest& http = call.http_;
    if (ForwardingRefused(http)) {
      call.answered_ = StandbyRedirect(http.target);
      return;
    }
    // On the connection's loop: while the request is out (on the HTTP
    // client's own thread) the loop serves others; no worker waits on it.
    call.forward_ = true;
    call.run_on_ = RunOn::kIoThread;
  }

  bool ForwardingRefused(const HttpRequest& http) const {
    return !options_.forward_client || !http.Header("x-vault-no-request-forwarding").empty();
  }

  core::InFlightRequests::Entry InFlightEntry(const HttpRequest& http) const {
    const bool v6 = http.remote_addr.find(':') != std::string::npos;
    std::string remote = v6 ? "[" + http.remote_addr + "]" : http.remote_addr;
    remote += ":" + std::to_string(http.remote_port);
    return {core_->clock().NowNanos(), std::move(remote), http.target.substr(0, http.target.find('?')),
            http.method, ""};
  }

  HttpResponse Init(const HttpRequest& http) {
    if (http.method == "GET") return JsonResponse(200, Json{{"initialized", core_->Initialized()}});
    if (http.method != "PUT" && http.method != "POST") return ErrorResponse(405, "");
    auto body = ParseBodyObject(http, limits_);
    if (!body.ok()) return ErrorFromStatus(body.status());
    core::InitRequest req;
    const bool static_seal = core_->SealType() == "static";
    if (!static_seal) {
      for (const char* k : {"recovery_shares", "recovery_threshold", "recovery_pgp_keys"}) {
        const Json* v = FindField(*body, k);
        if (v && !v->is_null() && !(v->is_number() && v->get<double>() == 0))
          return ErrorResponse(400,
                               "parameters recovery_shares,recovery_threshold,recovery_pgp_keys not applicable to "
                               "seal type shamir");
      }
    }
    const Json* rpgp = FindField(*body, "recovery_pgp_keys");
    if (rpgp && rpgp->is_array() && !rpgp->empty()) return ErrorResponse(400, "recovery_pgp_keys are not supported");
    const Json* pgp = FindField(*body, "pgp_keys");
    if (pgp && pgp->is_array() && !pgp->empty()) return ErrorResponse(400, "pgp_keys are not supported");
    const Json* root_pgp = FindField(*body, "root_token_pgp_key");
    if (root_pgp && root_pgp->is_string() && !root_pgp->get<std::string>().empty())
      return ErrorResponse(400, "root_token_pgp_key is not supported");
    for (auto [name, out] : {std::pair{"secret_shares", &req.secret_shares},
                             std::pair{"secret_threshold", &req.secret_threshold},
                             std::pair{"recovery_shares", &req.recovery_shares},
                             std::pair{"recovery_threshold", &req.recovery_threshold}}) {
      const Json* v = FindField(*body, name);
      if (!v) continue;
      auto n = JsonToInt(*v);
      if (!n.ok() || *n < -1 || *n > 100000) return ErrorResponse(400, "error parsing JSON");
      *out = static_cast<int>(*n);
    }
    auto result = core_->Initialize(req);
    if (!result.ok()) return ErrorFromStatus(result.status());
    auto encode = [](const std::vector<SecureBytes>& shares, Json* hex, Json* b64) {
      *hex = Json::array();
      *b64 = Json::array();
      for (const auto& s : shares) {
        hex->push_back(crypto::HexEncode(s.view()));
        b64->push_back(crypto::Base64Encode(s.view()));
      }
    };
    Json keys, keys_b64;
    encode(result->shares, &keys, &keys_b64);
    Json out = {{"keys", keys}, {"keys_base64", keys_b64}, {"root_token", result->root_token}};
    if (static_seal) {
      Json rkeys, rkeys_b64;
      encode(result->recovery_shares, &rkeys, &rkeys_b64);
      out["recovery_keys"] = rkeys;
      out["recovery_keys_base64"] = rkeys_b64;
    }
    return JsonResponse(200, out);
  }

  HttpResponse SealStatus(const HttpRequest& http) {
    if (http.method != "GET") return ErrorResponse(405, "");
    return JsonResponse(200, SealStatusJson(core_->GetSealStatus()));
  }

  HttpResponse Unseal(const HttpRequest& http) {
    if (http.method != "PUT" && http.method != "POST") return ErrorResponse(405, "");
    auto body = ParseBodyObject(http, limits_);
    if (!body.ok()) return ErrorFromStatus(body.status());
    if (!core_->Initialized()) return ErrorResponse(400, "Vault is not initialized");
    const Json* reset = FindField(*body, "reset");
    if (reset) {
      auto b = JsonToBool(*reset);
      if (b.ok() && *b) {
        auto st = core_->ResetUnseal();
        if (!st.ok()) return ErrorFromStatus(st.status());
        return JsonResponse(200, SealStatusJson(*st));
      }
    }
    const Json* key = FindField(*body, "key");
    if (!key || !key->is_string() || key->get_ref<const std::string&>().empty())
      return ErrorResponse(400, "'key' must be specified in request body as JSON, or 'reset' set to true");
    const std::string& k = key->get_ref<const std::string&>();
    SecureBytes share;
    auto hex = crypto::HexDecode(k);
    if (hex.ok() && hex->size() >= 16 && hex->size() <= 33) {
      share = std::move(hex).value();
    } else {
      auto b64 = crypto::Base64Decode(k);
      if (!b64.ok() || b64->empty()) return ErrorResponse(400, "'key' must be a valid hex or base64 string");
      share = std::move(b64).value();
    }
    // A share is a 16..32-byte key slice plus its x coordinate.
    if (share.size() < 17 || share.size() > 33) return ErrorResponse(400, "'key' must be a valid hex or base64 string");
    auto st = core_->SubmitUnsealKey(share);
    if (!st.ok()) return ErrorFromStatus(st.status());
    return JsonResponse(200, SealStatusJson(*st));
  }

  HttpResponse Health(const HttpRequest& http, const ParsedTarget& t) {
    if (http.method != "GET" && http.method != "HEAD") return ErrorResponse(405, "");
    auto int_param = [&](const char* name, int def, bool* bad) {
      auto it = t.query.find(name);
      if (it == t.query.end() || it->second.empty()) return def;
      auto v = JsonToInt(Json(it->second));
      if (!v.ok() || *v < 100 || *v > 599) {
        *bad = true;
        return def;
      }
      return static_cast<int>(*v);
    };
    auto bool_param = [&](const char* name, bool* bad) {
      auto it = t.query.find(name);
      if (it == t.query.end() || it->second.empty()) return false;
      auto b = ParseBoolString(it->second);
      if (!b) *bad = true;
      return b.value_or(false);
    };
    bool bad = false;
    int activecode = int_param("activecode", 200, &bad);
    int standbycode = int_param("standbycode", 429, &bad);
    int sealedcode = int_param("sealedcode", 503, &bad);
    int uninitcode = int_param("uninitcode", 501, &bad);
    int_param("drsecondarycode", 472, &bad);
    int_param("performancestandbycode", 473, &bad);
    int_param("haunhealthycode", 474, &bad);
    int_param("removedcode", 530, &bad);
    bool standbyok = bool_param("standbyok", &bad);
    bool_param("perfstandbyok", &bad);
    if (bad) return ErrorResponse(400, "");
    core::SealStatus st = core_->GetSealStatus();
    const bool standby = !st.sealed && core_->Standby();
    int code = !st.initialized ? uninitcode
               : st.sealed     ? sealedcode
               : standby       ? (standbyok ? activecode : standbycode)
                               : activecode;
    Json body = {{"initialized", st.initialized},
                 {"sealed", st.sealed},
                 {"standby", st.sealed || standby},
                 {"performance_standby", false},
                 {"replication_performance_mode", "disabled"},
                 {"replication_dr_mode", "disabled"},
                 {"server_time_utc", core_->clock().NowSeconds()},
                 {"version", kVaultApiVersion},
                 {"enterprise", false}};
    if (!st.sealed) {
      body["cluster_name"] = st.cluster_name;
      body["cluster_id"] = st.cluster_id;
    }
    HttpResponse r = JsonResponse(code, body);
    if (http.method == "HEAD") r.body.clear();
    return r;
  }

  // A scraper that asks for OpenMetrics gets the Prometheus text format
  // without ?format= (Vault's FormatFromRequest).
  static void AcceptAsFormat(const HttpRequest& http, Json& data) {
    if (http.Header("accept").find("application/openmetrics-text") != std::string_view::npos &&
        data.is_object() && !data.contains("format"))
      data["format"] = "prometheus";
  }

  HttpResponse Metrics(const HttpRequest& http, const ParsedTarget& t) {
    if (http.method != "GET") return ErrorResponse(405, "");
    auto it = t.query.find("format");
    metrics::ScrapeAnswer a = metrics::Scrape(metrics::DefaultRegistry(), it == t.query.end() ? "" : it->second,
                                              http.Header("accept"));
    HttpResponse r;
    r.status = a.status;
    r.body = std::move(a.body);
    AddStandardHeaders(r, false);
    r.headers.emplace_back("Content-Type", std::move(a.content_type));
    return r;
  }

  HttpResponse Leader(const HttpRequest& http) {
    if (http.method != "GET") return ErrorResponse(405, "");
    core::HaStatus ha = core_->GetHaStatus();
    const bool is_self = ha.enabled && ha.active;
    return JsonResponse(200, Json{{"ha_enabled", ha.enabled},
                                  {"is_self", is_self},
                                  {"active_time", is_self ? FormatRfc3339(ha.active_since) : "0001-01-01T00:00:00Z"},
                                  {"leader_address", ha.leader_api_addr},
                                  {"leader_cluster_address", ha.leader_cluster_addr},
                                  {"performance_standby", false},
                                  {"performance_standby_last_remote_wal", 0}});
  }

  // A standby sends routed requests to the active node, as Vault's standbys
  // do without request forwarding: 307 to the same path and query there.
  HttpResponse StandbyRedirect(const std::string& raw_target) {
    core::HaStatus ha = core_->GetHaStatus();
    if (ha.leader_api_addr.empty())
      return ErrorResponse(503, "node not active but active cluster node not found");
    std::string base = ha.leader_api_addr;
    while (!base.empty() && base.back() == '/') base.pop_back();
    HttpResponse r;
    r.status = 307;
    r.headers.emplace_back("Location", base + raw_target);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }

  core::Core* core_;
  ApiOptions options_;
  BuildLimits limits_;
};

Task<HttpResponse> ApiCall::RunAsync(Resumer* resumer) {
  HttpResponse r;
  try {
    r = co_await Run(resumer);
  } catch (const std::exception& e) {
    log::Error(std::string("api: unexpected exception: ") + e.what());
    r = ErrorResponse(500, "internal error");
  }
  RequestLog(r.status);
  co_return r;
}

Task<HttpResponse> ApiCall::Run(Resumer* resumer) {
  if (answered_) co_return std::move(*answered_);
  if (raw_ != RawEndpoint::kNone) co_return handler_->Raw(raw_, http_, target_);
  if (forward_) co_return co_await handler_->Forward(http_, resumer);
  co_return co_await handler_->RunRouted(routed_, http_, resumer);
}

// At debug: method, path (query dropped: it may carry values), status and
// latency only: never a header, body or token, whatever the level.
void ApiCall::RequestLog(int status) const {
  if (!log::Enabled(log::Level::kDebug)) return;
  std::string path = http_.target.substr(0, http_.target.find('?'));
  // auth/token/{renew,lookup,revoke}/<token> carries a token in the path.
  constexpr std::string_view kTokenPaths = "/v1/auth/token/";
  if (path.rfind(kTokenPaths, 0) == 0) {
    size_t end = path.find('/', kTokenPaths.size());
    if (end != std::string::npos) path = path.substr(0, end) + "/<redacted>";
  }
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start_).count();
  char latency[32];
  std::snprintf(latency, sizeof latency, "%.3f", static_cast<double>(micros) / 1000.0);
  log::WriteFields(log::Level::kDebug, "request",
                   {{"method", http_.method}, {"path", path}, {"status", std::to_string(status)},
                    {"duration_ms", latency}});
}

}  // namespace

std::unique_ptr<HttpHandler> NewApiHandler(core::Core* core, ApiOptions options) {
  return std::make_unique<ApiHandler>(core, options);
}

}  // namespace sealbox::api
