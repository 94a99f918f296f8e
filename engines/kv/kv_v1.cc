#include "engines/kv/kv_v1.h"

#include "base/crypto.h"
#include "engines/kv/kv_common.h"
#include "storage/storage.h"

namespace sealbox::engines::kv {

using logical::FieldData;
using logical::Operation;
using logical::Request;
using logical::Response;

namespace {

constexpr int64_t kSystemDefaultLeaseTtl = 768 * 3600;

// The stored value of the read path's capture, or "" for the mount root.
std::string KeyOf(const FieldData& fd) {
  const Json& p = fd.Get("path");
  return p.is_string() ? p.get<std::string>() : std::string();
}

}  // namespace

KvV1Backend::KvV1Backend(const logical::BackendConfig& config, Mode mode) : config_(config), mode_(mode) {
  auto bind = [this](auto fn) {
    return [this, fn](Request& r, FieldData& f) -> Result<Response> { return (this->*fn)(r, f); };
  };
  SetRoutes({{.pattern = "{path:*}",
              .fields = {{"path", logical::FieldType::kString}},
              .ops = {{Operation::kRead, bind(&KvV1Backend::Read)},
                      {Operation::kCreate, bind(&KvV1Backend::Write)},
                      {Operation::kUpdate, bind(&KvV1Backend::Write)},
                      {Operation::kList, bind(&KvV1Backend::List)},
                      {Operation::kDelete, bind(&KvV1Backend::Delete)}},
              .exists = [this](Request& r, FieldData& f) { return Exists(r, f); },
              // A KV v1 body is the secret itself: every key is data.
              .any_fields = true}});
  // Reads come from the local store (its block cache): no thread hop.
  SetRunModes(logical::RunMode::kNonBlocking, logical::RunMode::kWaits);
  SetStandbyReads(true);
}

Result<std::string> KvV1Backend::BasePrefix(const Request& req) const {
  if (mode_ == Mode::kKv) return std::string(kV1Prefix);
  if (!req.token || req.token->storage_id.empty()) return InvalidArgument("client token empty");
  const std::string& id = req.token->storage_id;
  // The id is a salted hash; should it ever contain '/', hex it so one
  // token's prefix can never be a folder inside another's.
  if (id.find('/') != std::string::npos) return crypto::HexEncode(id) + "/";
  return id + "/";
}

Result<bool> KvV1Backend::Exists(Request& req, FieldData& fd) {
  std::string key = KeyOf(fd);
  if (key.empty() || key.back() == '/') return false;
  SB_ASSIGN_OR_RETURN(std::string base, BasePrefix(req));
  SB_ASSIGN_OR_RETURN(auto raw, config_.storage->Get(base + key));
  return raw.has_value();
}

Result<Response> KvV1Backend::Read(Request& req, FieldData& fd) {
  std::string key = KeyOf(fd);
  if (key.empty() || key.back() == '/') return Response::Empty();
  SB_ASSIGN_OR_RETURN(std::string base, BasePrefix(req));
  SB_ASSIGN_OR_RETURN(auto raw, config_.storage->Get(base + key));
  if (!raw) return Response::Empty();
  SB_ASSIGN_OR_RETURN(Json data, DecodeObject(*raw, "kv entry"));

  Response resp;
  if (mode_ == Mode::kKv) {
    // The `ttl` (or legacy `lease`) key is only a hint shown as
    // lease_duration: no lease is registered (lease_id stays "").
    int64_t ttl = config_.mount ? config_.mount->DefaultLeaseTtl() : kSystemDefaultLeaseTtl;
    auto it = data.find("ttl");
    if (it == data.end()) it = data.find("lease");
    if (it != data.end()) {
      auto parsed = JsonToDurationSeconds(*it);
      if (parsed.ok() && *parsed >= 0) ttl = *parsed;
    }
    logical::Secret secret;
    secret.ttl = ttl;
    secret.renewable = false;
    resp.secret = std::move(secret);
  }
  resp.data = std::move(data);
  return resp;
}

Result<Response> KvV1Backend::Write(Request& req, FieldData& fd) {
  std::string key = KeyOf(fd);
  if (key.empty()) return InvalidArgument("missing path");
  if (key.back() == '/') return InvalidArgument("invalid path: a key cannot end in '/'");
  if (!req.data.is_object() || req.data.empty()) return InvalidArgument("missing data fields");
  SB_ASSIGN_OR_RETURN(std::string base, BasePrefix(req));
  std::string value = EncodeObject(req.data);
  SB_RETURN_IF_ERROR(CheckEntrySize(value.size(), MaxEntrySize(config_.mount), "value"));
  SB_RETURN_IF_ERROR(config_.storage->Put(base + key, value));
  return Response::Empty();
}

Result<Response> KvV1Backend::List(Request& req, FieldData& fd) {
  std::string dir = KeyOf(fd);
  if (!dir.empty() && dir.back() != '/') dir += '/';
  SB_ASSIGN_OR_RETURN(std::string base, BasePrefix(req));
  bool recursive = false;
  RecursiveListOptions opts;
  SB_RETURN_IF_ERROR(ParseRecursiveListOptions(req.data, &recursive, &opts));
  if (recursive) {
    SB_ASSIGN_OR_RETURN(auto page, ListRecursivePage(*config_.storage, base + dir, opts));
    return RecursiveListResponse(page);
  }
  SB_ASSIGN_OR_RETURN(auto keys, config_.storage->List(base + dir));
  return Response::WithData(Json{{"keys", std::move(keys)}});
}

Result<Response> KvV1Backend::Delete(Request& req, FieldData& fd) {
  std::string key = KeyOf(fd);
  if (key.empty() || key.back() == '/') return Response::Empty();
  SB_ASSIGN_OR_RETURN(std::string base, BasePrefix(req));
  SB_RETURN_IF_ERROR(config_.storage->Delete(base + key));
  return Response::Empty();
}

}  // namespace sealbox::engines::kv
