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
// Lease and Watch (the HA step) take the same channels: unary Lease calls go
// through Call(); the keep-alive and watch streams will hold a channel of
// their own member and move to the next one when it breaks.
//
// Errors become Status with messages fit for a client: etcd's own error
// texts carry no values, and no value or token is ever logged. Thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "etcd/etcd_options.h"
#include "etcd/etcd_plan.h"
#include "etcd/proto/rpc.grpc.pb.h"

namespace sealbox::etcd {

class EtcdClient {
 public:
  static Result<std::unique_ptr<EtcdClient>> Create(const EtcdOptions& options);

  Result<etcdserverpb::RangeResponse> Range(const etcdserverpb::RangeRequest& req);
  Result<etcdserverpb::PutResponse> Put(const etcdserverpb::PutRequest& req);
  Result<etcdserverpb::DeleteRangeResponse> DeleteRange(const etcdserverpb::DeleteRangeRequest& req);
  Result<etcdserverpb::TxnResponse> Txn(const etcdserverpb::TxnRequest& req);

  // The endpoints, as configured (for messages and the banner).
  std::string Describe() const;

 private:
  struct Member {
    Endpoint endpoint;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<etcdserverpb::KV::Stub> kv;
    std::unique_ptr<etcdserverpb::Auth::Stub> auth;
  };
  template <class Stub, class Req, class Resp>
  using Method = grpc::Status (Stub::*)(grpc::ClientContext*, const Req&, Resp*);

  EtcdClient(const EtcdOptions& options, std::vector<Member> members);

  // One call with failover; `what` names it in errors ("read", "write").
  template <class Req, class Resp>
  Result<Resp> Call(const char* what, Method<etcdserverpb::KV::Stub, Req, Resp> method, const Req& req);
  // One member: the call, logging in first when needed.
  template <class Req, class Resp>
  grpc::Status CallOne(Member& m, Method<etcdserverpb::KV::Stub, Req, Resp> method, const Req& req, Resp* resp);
  // Logs in at `m` and keeps etcd's token for the next calls.
  grpc::Status Authenticate(Member& m);
  std::string Token();

  const EtcdOptions options_;
  std::vector<Member> members_;
  std::atomic<size_t> current_{0};  // the member that answered last
  std::mutex token_mu_;
  std::string token_;  // guarded by token_mu_; empty without a username
};

}  // namespace sealbox::etcd
