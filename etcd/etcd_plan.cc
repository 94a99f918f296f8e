#include "etcd/etcd_plan.h"

#include <algorithm>
#include <unordered_set>

namespace sealbox::etcd {
namespace {

// Protobuf framing of one RequestOp (tags and length varints of the op, its
// put or delete message, key and value), rounded up.
constexpr size_t kOpFraming = 32;
// etcd wraps a request in an InternalRaftRequest (ID, user name, auth
// revision) before it compares its size with --max-request-bytes.
constexpr size_t kRequestHeaderRoom = 4096;

std::string MiB(size_t bytes) {
  std::string s = std::to_string(bytes / (1024 * 1024));
  size_t tenths = bytes % (1024 * 1024) * 10 / (1024 * 1024);
  return tenths ? s + "." + std::to_string(tenths) + " MiB" : s + " MiB";
}

bool Fits(const std::vector<WriteOp>& ops, const TxnLimits& limits) {
  if (ops.size() > limits.max_ops) return false;
  size_t bytes = 0;
  for (const auto& op : ops) bytes += OpBytes(op);
  return bytes <= limits.max_bytes;
}

// The last write to each key, in the order of those last writes.
std::vector<WriteOp> CollapseByKey(std::vector<WriteOp> ops) {
  std::unordered_set<std::string_view> seen;
  std::vector<bool> keep(ops.size(), false);
  for (size_t i = ops.size(); i-- > 0;) keep[i] = seen.insert(ops[i].key).second;
  std::vector<WriteOp> out;
  out.reserve(seen.size());
  for (size_t i = 0; i < ops.size(); ++i)
    if (keep[i]) out.push_back(std::move(ops[i]));
  return out;
}

// Greedy chunks of at most the limits, order kept.
std::vector<std::vector<WriteOp>> Chunk(std::vector<WriteOp> ops, const TxnLimits& limits) {
  std::vector<std::vector<WriteOp>> out;
  std::vector<WriteOp> cur;
  size_t bytes = 0;
  for (auto& op : ops) {
    size_t b = OpBytes(op);
    if (!cur.empty() && (cur.size() == limits.max_ops || bytes + b > limits.max_bytes)) {
      out.push_back(std::move(cur));
      cur.clear();
      bytes = 0;
    }
    bytes += b;
    cur.push_back(std::move(op));
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

}  // namespace

Result<std::vector<Endpoint>> ParseEndpoints(std::string_view address, bool tls_default) {
  std::vector<Endpoint> out;
  size_t pos = 0;
  while (pos <= address.size()) {
    size_t comma = address.find(',', pos);
    if (comma == std::string_view::npos) comma = address.size();
    std::string_view e = address.substr(pos, comma - pos);
    pos = comma + 1;
    while (!e.empty() && e.front() == ' ') e.remove_prefix(1);
    while (!e.empty() && e.back() == ' ') e.remove_suffix(1);
    if (e.empty()) continue;
    Endpoint ep;
    ep.tls = tls_default;
    if (e.starts_with("https://")) {
      ep.tls = true;
      e.remove_prefix(8);
    } else if (e.starts_with("http://")) {
      ep.tls = false;
      e.remove_prefix(7);
    } else if (e.find("://") != std::string_view::npos) {
      return InvalidArgument("etcd endpoint \"" + std::string(e) + "\": scheme must be http or https");
    }
    while (!e.empty() && e.back() == '/') e.remove_suffix(1);
    size_t colon = e.rfind(':');
    bool bracketed_v6 = !e.empty() && e.front() == '[';
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == e.size() ||
        (bracketed_v6 && e[colon - 1] != ']') || e.find('/') != std::string_view::npos)
      return InvalidArgument("etcd endpoint \"" + std::string(e) + "\": expected host:port");
    for (char c : e.substr(colon + 1))
      if (c < '0' || c > '9') return InvalidArgument("etcd endpoint \"" + std::string(e) + "\": bad port");
    ep.target = std::string(e);
    out.push_back(std::move(ep));
  }
  if (out.empty()) return InvalidArgument("etcd: address lists no endpoint");
  return out;
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

Keyspace::Keyspace(std::string_view path) : prefix_(path.empty() ? "/vault/" : std::string(path)) {
  if (prefix_.back() != '/') prefix_.push_back('/');
}

std::string_view ChildOf(std::string_view rest) {
  size_t slash = rest.find('/');
  return slash == std::string_view::npos ? rest : rest.substr(0, slash + 1);
}

std::string NextListStart(std::string_view folder, std::string_view last_key) {
  std::string_view child = ChildOf(last_key.substr(folder.size()));
  if (!child.empty() && child.back() == '/') return PrefixEnd(std::string(folder) + std::string(child));
  return std::string(last_key) + '\0';
}

TxnLimits LimitsFor(size_t max_txn_ops, size_t max_request_bytes) {
  return {max_txn_ops, max_request_bytes > 2 * kRequestHeaderRoom ? max_request_bytes - kRequestHeaderRoom
                                                                  : max_request_bytes / 2};
}

size_t OpBytes(const WriteOp& op) { return op.key.size() + op.value.size() + kOpFraming; }

Status CheckPutFits(size_t key_size, size_t value_size, const TxnLimits& limits) {
  if (key_size + value_size + kOpFraming <= limits.max_bytes) return Status::Ok();
  return TooLarge("entry too large for etcd storage: " + std::to_string(value_size) +
                  " bytes once encrypted, and etcd takes at most " + MiB(limits.max_bytes + kRequestHeaderRoom) +
                  " per request (its --max-request-bytes)");
}

Result<std::vector<std::vector<WriteOp>>> PlanBatch(std::vector<WriteOp> ops, const TxnLimits& limits) {
  ops = CollapseByKey(std::move(ops));
  for (const auto& op : ops)
    if (op.kind == WriteOp::Kind::kPut) SB_RETURN_IF_ERROR(CheckPutFits(op.key.size(), op.value.size(), limits));
  std::vector<std::vector<WriteOp>> txns;
  if (ops.empty()) return txns;
  if (Fits(ops, limits)) {
    txns.push_back(std::move(ops));
    return txns;
  }
  // The final transaction: every put and the last op, then the latest
  // deletes while they fit; the other deletes commit first, in order.
  std::vector<bool> in_final(ops.size(), false);
  std::vector<WriteOp> final_ops;
  size_t final_bytes = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].kind != WriteOp::Kind::kPut && i + 1 != ops.size()) continue;
    in_final[i] = true;
    final_ops.push_back(ops[i]);
    final_bytes += OpBytes(ops[i]);
  }
  if (!Fits(final_ops, limits))
    return TooLarge("batch too large for one etcd transaction: " + std::to_string(final_ops.size()) + " writes of " +
                    std::to_string(final_bytes) + " bytes (etcd takes " + std::to_string(limits.max_ops) +
                    " operations and " + MiB(limits.max_bytes + kRequestHeaderRoom) + " per transaction)");
  for (size_t i = ops.size(); i-- > 0;) {
    if (in_final[i]) continue;
    if (final_ops.size() + 1 > limits.max_ops || final_bytes + OpBytes(ops[i]) > limits.max_bytes) break;
    in_final[i] = true;
    final_ops.push_back(ops[i]);
    final_bytes += OpBytes(ops[i]);
  }
  std::vector<WriteOp> early;
  std::vector<WriteOp> last;
  for (size_t i = 0; i < ops.size(); ++i) (in_final[i] ? last : early).push_back(std::move(ops[i]));
  txns = Chunk(std::move(early), limits);
  txns.push_back(std::move(last));
  return txns;
}

}  // namespace sealbox::etcd
