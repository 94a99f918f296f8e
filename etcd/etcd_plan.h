// The pure pieces of the etcd backend: endpoints, the key mapping under the
// configured path, the folding of range pages into a folder's children, and
// how a Storage batch becomes etcd transactions. No I/O, no gRPC; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/storage.h"

namespace sealbox::etcd {

struct Endpoint {
  std::string target;  // "host:port", as gRPC dials it
  bool tls = false;    // https:// (or no scheme and TLS files given)
};

// Parses Vault's comma-separated `address` ("http://a:2379,https://b:2379";
// a missing scheme means https when `tls_default` is set, else http). Errors:
// InvalidArgument naming the bad endpoint.
Result<std::vector<Endpoint>> ParseEndpoints(std::string_view address, bool tls_default);

// etcd's range_end for "every key starting with prefix": the prefix with its
// last byte below 0xff incremented and the rest dropped ("\0" when there is
// none, which etcd reads as "to the end of the keyspace").
std::string PrefixEnd(std::string_view prefix);

// Storage keys live under one etcd prefix (`path`, "/vault/" by default,
// always ending in '/'): "core/keyring" is "/vault/core/keyring" in etcd.
class Keyspace {
 public:
  explicit Keyspace(std::string_view path);
  std::string ToEtcd(std::string_view key) const { return prefix_ + std::string(key); }
  // The storage key of an etcd key under the prefix.
  std::string_view FromEtcd(std::string_view etcd_key) const { return etcd_key.substr(prefix_.size()); }
  const std::string& prefix() const { return prefix_; }

 private:
  std::string prefix_;
};

// The immediate child a key below a listed folder stands for: "a" for "a",
// "dir/" for "dir/b/c" (`rest` is the key with the folder's prefix removed).
std::string_view ChildOf(std::string_view rest);

// Where the next page of a folder listing starts after `last_key` (a full
// etcd key under `folder`): past every key of the sub-folder it lies in, or
// right after it when it is a leaf.
std::string NextListStart(std::string_view folder, std::string_view last_key);

struct TxnLimits {
  size_t max_ops;
  size_t max_bytes;  // what one request may hold, etcd's own overhead deducted
};

// etcd's limits as a planner sees them: the request limit less room for the
// header etcd wraps each request in before it checks the size.
TxnLimits LimitsFor(size_t max_txn_ops, size_t max_request_bytes);

// What one op costs in a request (its key and value plus their framing).
size_t OpBytes(const WriteOp& op);

// TooLarge when one value alone cannot fit in a request.
Status CheckPutFits(size_t key_size, size_t value_size, const TxnLimits& limits);

// A Storage batch (keys already mapped to etcd) as etcd transactions, to be
// committed in order. Writes to one key collapse to the last one (etcd
// refuses a transaction that touches a key twice; the result is the same).
// A batch within the limits is one transaction. A larger one is split only
// where atomicity does not matter: every put and the batch's last op stay in
// the final transaction, and only deletes that precede them may commit in
// earlier ones (DeletePrefix, a KV key's versions deleted before its
// metadata, pruned versions before the metadata that drops them). Errors:
// TooLarge when a value, or the final transaction, cannot fit.
Result<std::vector<std::vector<WriteOp>>> PlanBatch(std::vector<WriteOp> ops, const TxnLimits& limits);

}  // namespace sealbox::etcd
