#include "etcd/etcd_client.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/log.h"

namespace sealbox::etcd {
namespace {

using etcdserverpb::Auth;
using etcdserverpb::KV;
using etcdserverpb::Lease;

// Bounds a certificate or key file read at start.
constexpr size_t kMaxPemBytes = 1 << 20;

Result<std::string> ReadPem(const std::string& path, const std::string& key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("storage \"etcd\": " + key + ": cannot read " + path + ": " + std::strerror(errno));
  std::string text(kMaxPemBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxPemBytes) return InvalidArgument("storage \"etcd\": " + key + ": " + path + " is too large");
  if (text.empty()) return InvalidArgument("storage \"etcd\": " + key + ": " + path + " is empty");
  return text;
}

Result<std::shared_ptr<grpc::ChannelCredentials>> TlsCredentials(const EtcdOptions& o) {
  grpc::SslCredentialsOptions ssl;
  if (!o.tls_ca_file.empty()) {
    SB_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPem(o.tls_ca_file, "tls_ca_file"));
  }
  if (o.tls_cert_file.empty() != o.tls_key_file.empty())
    return InvalidArgument("storage \"etcd\": tls_cert_file and tls_key_file go together");
  if (!o.tls_cert_file.empty()) {
    SB_ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadPem(o.tls_cert_file, "tls_cert_file"));
    SB_ASSIGN_OR_RETURN(ssl.pem_private_key, ReadPem(o.tls_key_file, "tls_key_file"));
  }
  return grpc::SslCredentials(ssl);
}

grpc::ChannelArguments ChannelArgs(const EtcdOptions& o) {
  grpc::ChannelArguments args;
  // A range page or one value, with room for etcd's framing.
  args.SetMaxReceiveMessageSize(static_cast<int>(o.max_request_bytes * 2 + (1 << 20)));
  // A member that comes back is dialled again within two seconds. (gRPC's
  // minimum reconnect back-off doubles as the connect timeout: it stays at
  // its default of 20 s.)
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  // Finds a member that vanished without closing its connections; etcd's
  // default keep-alive policy allows pings every 5 s.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  return args;
}

// Errors after which the next endpoint may answer: the member is down, cut
// off, or has no leader.
bool WorthFailover(const grpc::Status& s) {
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE || s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
    return true;
  // A member killed mid-call: gRPC reports the reset stream as UNKNOWN
  // ("Stream removed") or INTERNAL ("RST_STREAM"), not as UNAVAILABLE. A
  // member that lost its leader when another was killed times the call out
  // itself and answers UNKNOWN "context deadline exceeded" (etcd 3.4).
  const std::string& m = s.error_message();
  if (s.error_code() != grpc::StatusCode::UNKNOWN && s.error_code() != grpc::StatusCode::INTERNAL) return false;
  for (const char* cut_off : {"Stream removed", "RST_STREAM", "Socket closed", "Connection reset",
                              "context deadline exceeded", "etcdserver: request timed out",
                              "etcdserver: leader changed", "etcdserver: no leader"})
    if (m.find(cut_off) != std::string::npos) return true;
  return false;
}

bool TokenRejected(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
         s.error_message().find("invalid auth token") != std::string::npos;
}

// etcd's answers that are not about one member being down.
Status FromEtcd(const grpc::Status& s, const char* what) {
  const std::string& m = s.error_message();
  if (m.find("database space exceeded") != std::string::npos) {
    log::Error("etcd: its space quota is exhausted (NOSPACE alarm): compact, defragment and disarm the alarm");
    return StorageFull();
  }
  if (m.find("request is too large") != std::string::npos)
    return TooLarge("entry too large for etcd storage (etcd's --max-request-bytes)");
  // An answer past the channel's receive limit: a range page of large values.
  if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) return TooLarge("etcd's answer is too large");
  if (m.find("required revision has been compacted") != std::string::npos)
    return Unavailable("etcd compacted the revision being read; try again");
  if (s.error_code() == grpc::StatusCode::PERMISSION_DENIED || s.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
      m.find("authentication failed") != std::string::npos || m.find("user name") != std::string::npos) {
    log::Error(std::string("etcd: ") + what + " refused: " + m);
    return Unavailable("storage unavailable: etcd refused the " + std::string(what) +
                       " (check the username, password and its role's permissions on the path)");
  }
  log::Error(std::string("etcd: ") + what + " failed: code " + std::to_string(s.error_code()) + ": " + m);
  return IOError("storage error");
}

}  // namespace

Result<std::unique_ptr<EtcdClient>> EtcdClient::Create(const EtcdOptions& options) {
  bool tls_files = !options.tls_ca_file.empty() || !options.tls_cert_file.empty();
  SB_ASSIGN_OR_RETURN(auto endpoints, ParseEndpoints(options.address, tls_files));
  std::shared_ptr<grpc::ChannelCredentials> tls;
  for (const auto& e : endpoints) {
    if (e.tls && !tls) {
      SB_ASSIGN_OR_RETURN(tls, TlsCredentials(options));
    }
  }
  if (!options.username.empty() && !tls)
    log::Warn("storage \"etcd\": the etcd password and token travel in clear text (no https endpoint)");
  std::vector<Member> members;
  for (auto& e : endpoints) {
    Member m;
    m.channel = grpc::CreateCustomChannel(e.target, e.tls ? tls : grpc::InsecureChannelCredentials(),
                                          ChannelArgs(options));
    m.kv = KV::NewStub(m.channel);
    m.auth = Auth::NewStub(m.channel);
    m.lease = Lease::NewStub(m.channel);
    m.watch = etcdserverpb::Watch::NewStub(m.channel);
    m.endpoint = std::move(e);
    members.push_back(std::move(m));
  }
  return std::unique_ptr<EtcdClient>(new EtcdClient(options, std::move(members)));
}

EtcdClient::EtcdClient(const EtcdOptions& options, std::vector<Member> members)
    : options_(options), members_(std::move(members)) {}

std::string EtcdClient::Describe() const {
  std::string out;
  for (const auto& m : members_) out += (out.empty() ? "" : ",") + m.endpoint.target;
  return out;
}

std::string EtcdClient::Token() {
  std::lock_guard l(token_mu_);
  return token_;
}

grpc::Status EtcdClient::Authenticate(Member& m) {
  etcdserverpb::AuthenticateRequest req;
  req.set_name(options_.username);
  req.set_password(options_.password);
  etcdserverpb::AuthenticateResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(options_.request_timeout_ms));
  grpc::Status s = m.auth->Authenticate(&ctx, req, &resp);
  if (s.ok()) {
    std::lock_guard l(token_mu_);
    token_ = resp.token();
  }
  return s;
}

template <class Stub, class Req, class Resp>
grpc::Status EtcdClient::CallOne(Member& m, StubOf<Stub> stub, Method<Stub, Req, Resp> method, const Req& req,
                                 Resp* resp) {
  grpc::Status s;
  // With a username: log in first, and once more if etcd drops the token
  // (simple tokens expire after five idle minutes).
  for (int login = 0; login < 2; ++login) {
    if (!options_.username.empty() && (login == 1 || Token().empty())) {
      s = Authenticate(m);
      if (!s.ok()) return s;
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(options_.request_timeout_ms));
    if (!options_.username.empty()) ctx.AddMetadata("token", Token());
    s = ((m.*stub).get()->*method)(&ctx, req, resp);
    if (options_.username.empty() || !TokenRejected(s)) break;
  }
  return s;
}

template <class Stub, class Req, class Resp>
Result<Resp> EtcdClient::Call(const char* what, StubOf<Stub> stub, Method<Stub, Req, Resp> method, const Req& req) {
  const size_t n = members_.size();
  const size_t first = current_.load();
  std::string last_error;
  for (size_t attempt = 0; attempt < n; ++attempt) {
    Member& m = members_[(first + attempt) % n];
    Resp resp;
    grpc::Status s = CallOne(m, stub, method, req, &resp);
    if (s.ok()) {
      if (attempt > 0) {
        current_.store((first + attempt) % n);
        log::Warn("etcd: now using endpoint " + m.endpoint.target);
      }
      return resp;
    }
    if (!WorthFailover(s)) return FromEtcd(s, what);
    last_error = m.endpoint.target + ": " + s.error_message();
    log::Debug(std::string("etcd: ") + what + " failed at " + last_error);
  }
  log::Error(std::string("etcd: ") + what + ": no endpoint answered; last error: " + last_error);
  return Unavailable("storage unavailable: no etcd endpoint answered the " + std::string(what) + " within " +
                     std::to_string(options_.request_timeout_ms) + " ms (" + std::to_string(n) + " tried)");
}

Result<etcdserverpb::RangeResponse> EtcdClient::Range(const etcdserverpb::RangeRequest& req) {
  return Call("read", &Member::kv, &KV::Stub::Range, req);
}

Result<etcdserverpb::PutResponse> EtcdClient::Put(const etcdserverpb::PutRequest& req) {
  return Call("write", &Member::kv, &KV::Stub::Put, req);
}

Result<etcdserverpb::DeleteRangeResponse> EtcdClient::DeleteRange(const etcdserverpb::DeleteRangeRequest& req) {
  return Call("delete", &Member::kv, &KV::Stub::DeleteRange, req);
}

Result<etcdserverpb::TxnResponse> EtcdClient::Txn(const etcdserverpb::TxnRequest& req) {
  return Call("transaction", &Member::kv, &KV::Stub::Txn, req);
}


Result<etcdserverpb::LeaseGrantResponse> EtcdClient::LeaseGrant(const etcdserverpb::LeaseGrantRequest& req) {
  return Call("lease grant", &Member::lease, &Lease::Stub::LeaseGrant, req);
}

Result<etcdserverpb::LeaseRevokeResponse> EtcdClient::LeaseRevoke(const etcdserverpb::LeaseRevokeRequest& req) {
  return Call("lease revoke", &Member::lease, &Lease::Stub::LeaseRevoke, req);
}

grpc::Status EtcdClient::KeepAliveAt(Member& m, int64_t id, etcdserverpb::LeaseKeepAliveResponse* resp) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(options_.request_timeout_ms));
  if (!options_.username.empty()) ctx.AddMetadata("token", Token());
  auto stream = m.lease->LeaseKeepAlive(&ctx);
  etcdserverpb::LeaseKeepAliveRequest req;
  req.set_id(id);
  bool exchanged = stream->Write(req) && stream->Read(resp);
  stream->WritesDone();
  grpc::Status s = stream->Finish();
  if (s.ok() && !exchanged) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "keep-alive stream closed");
  return s;
}

Result<int64_t> EtcdClient::LeaseKeepAliveOnce(int64_t id) {
  const size_t n = members_.size();
  const size_t first = current_.load();
  for (size_t attempt = 0; attempt < n; ++attempt) {
    Member& m = members_[(first + attempt) % n];
    etcdserverpb::LeaseKeepAliveResponse resp;
    grpc::Status s = KeepAliveAt(m, id, &resp);
    if (s.ok()) return resp.ttl();
    if (!WorthFailover(s)) return FromEtcd(s, "lease keep-alive");
  }
  return Unavailable("storage unavailable: no etcd endpoint renewed the lease");
}

Status EtcdClient::Watch(const etcdserverpb::WatchCreateRequest& create, WatchCancel& cancel,
                         const std::function<bool(const etcdserverpb::WatchResponse&)>& on_response) {
  Member& m = members_[watch_member_.load() % members_.size()];
  if (!options_.username.empty() && Token().empty()) {
    grpc::Status s = Authenticate(m);
    if (!s.ok()) {
      watch_member_.fetch_add(1);
      return FromEtcd(s, "watch");
    }
  }
  // No deadline: the stream lives as long as the standby. A member that
  // vanishes is found by the channel's keep-alive pings.
  grpc::ClientContext ctx;
  if (!options_.username.empty()) ctx.AddMetadata("token", Token());
  if (!cancel.Attach(&ctx)) return Status::Ok();
  auto stream = m.watch->Watch(&ctx);
  etcdserverpb::WatchRequest req;
  *req.mutable_create_request() = create;
  bool ended_by_caller = false;
  if (stream->Write(req)) {
    etcdserverpb::WatchResponse resp;
    while (stream->Read(&resp)) {
      if (!on_response(resp)) {
        ended_by_caller = true;
        ctx.TryCancel();
        break;
      }
    }
  }
  grpc::Status s = stream->Finish();
  const bool cancelled = !cancel.Attach(nullptr);
  if (ended_by_caller || cancelled) return Status::Ok();
  watch_member_.fetch_add(1);
  if (s.ok() || WorthFailover(s) || s.error_code() == grpc::StatusCode::CANCELLED) {
    log::Debug("etcd: watch stream at " + m.endpoint.target + " ended: " + s.error_message());
    return Unavailable("etcd watch stream ended");
  }
  return FromEtcd(s, "watch");
}

}  // namespace sealbox::etcd
