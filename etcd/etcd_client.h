// EtcdClient: etcd's v3 gRPC API over a list of endpoints. Private to etcd/
// (the only folder that sees gRPC and the generated messages).
//
// One channel per endpoint, created up front. A call goes to the endpoint
// that answered last; when it is down (UNAVAILABLE, or no answer within
// request_timeout) the next one is tried, each endpoint at most once per
// call, so a call fails after at most endpoints × request_timeout. Retrying a
// call whose first attempt timed out may apply it twice: every write Sealbox
// sends is idempotent (puts of whole values, deletes), and a fenced
// transaction (HA) stays safe because its compare holds or fails the same
// way both times. With a username, the client authenticates and sends
// etcd's token with every call, authenticating again when etcd drops it.
//
// Lease calls (the HA election) take the same channels and failover; a
// keep-alive is one short stream per renewal on the member that answers.
//
// Errors become Status with messages fit for a client: etcd's own error
// texts carry no values, and no value or token is ever logged. Thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "etcd/etcd_options.h"
#include "etcd/etcd_plan.h"
#include "etcd/proto/rpc.grpc.pb.h"

namespace sealbox::etcd {

// Ends a Watch from another thread.
class WatchCancel {
 public:
  void Cancel() {
    std::lock_guard l(mu_);
    cancelled_ = true;
    if (ctx_) ctx_->TryCancel();
  }
  void Reset() {
    std::lock_guard l(mu_);
    cancelled_ = false;
  }

 private:
  friend class EtcdClient;
  // False when already cancelled.
  bool Attach(grpc::ClientContext* ctx) {
    std::lock_guard l(mu_);
    ctx_ = ctx;
    return !cancelled_;
  }
  std::mutex mu_;
  grpc::ClientContext* ctx_ = nullptr;  // guarded by mu_
  bool cancelled_ = false;              // guarded by mu_
};

class EtcdClient {
 public:
  static Result<std::unique_ptr<EtcdClient>> Create(const EtcdOptions& options);

  Result<etcdserverpb::RangeResponse> Range(const etcdserverpb::RangeRequest& req);
  Result<etcdserverpb::PutResponse> Put(const etcdserverpb::PutRequest& req);
  Result<etcdserverpb::DeleteRangeResponse> DeleteRange(const etcdserverpb::DeleteRangeRequest& req);
  Result<etcdserverpb::TxnResponse> Txn(const etcdserverpb::TxnRequest& req);
  Result<etcdserverpb::LeaseGrantResponse> LeaseGrant(const etcdserverpb::LeaseGrantRequest& req);
  Result<etcdserverpb::LeaseRevokeResponse> LeaseRevoke(const etcdserverpb::LeaseRevokeRequest& req);
  // Renews lease `id` once; the TTL left (<= 0: the lease is gone).
  Result<int64_t> LeaseKeepAliveOnce(int64_t id);

  // Watches with `create` on one member (the one that answered last
  // first; the next one after each failure), passing every response to
  // `on_response` until it returns false, the stream breaks, or `cancel`
  // is cancelled. Returns why it ended (OK: on_response or cancel ended it).
  Status Watch(const etcdserverpb::WatchCreateRequest& create, WatchCancel& cancel,
               const std::function<bool(const etcdserverpb::WatchResponse&)>& on_response);

  // The endpoints, as configured (for messages and the banner).
  std::string Describe() const;

 private:
  struct Member {
    Endpoint endpoint;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<etcdserverpb::KV::Stub> kv;
    std::unique_ptr<etcdserverpb::Lease::Stub> lease;
    std::unique_ptr<etcdserverpb::Auth::Stub> auth;
    std::unique_ptr<etcdserverpb::Watch::Stub> watch;
  };
  template <class Stub, class Req, class Resp>
  using Method = grpc::Status (Stub::*)(grpc::ClientContext*, const Req&, Resp*);

  EtcdClient(const EtcdOptions& options, std::vector<Member> members);

  template <class Stub>
  using StubOf = std::unique_ptr<Stub> Member::*;
  // One call with failover; `what` names it in errors ("read", "write").
  template <class Stub, class Req, class Resp>
  Result<Resp> Call(const char* what, StubOf<Stub> stub, Method<Stub, Req, Resp> method, const Req& req);
  // One member: the call, logging in first when needed.
  template <class Stub, class Req, class Resp>
  grpc::Status CallOne(Member& m, StubOf<Stub> stub, Method<Stub, Req, Resp> method, const Req& req, Resp* resp);
  // The keep-alive stream's one exchange at member `m`.
  grpc::Status KeepAliveAt(Member& m, int64_t id, etcdserverpb::LeaseKeepAliveResponse* resp);
  // Logs in at `m` and keeps etcd's token for the next calls.
  grpc::Status Authenticate(Member& m);
  std::string Token();

  const EtcdOptions options_;
  std::vector<Member> members_;
  std::atomic<size_t> current_{0};  // the member that answered last
  std::atomic<size_t> watch_member_{0};  // where the next watch goes
  std::mutex token_mu_;
  std::string token_;  // guarded by token_mu_; empty without a username
};

}  // namespace sealbox::etcd
