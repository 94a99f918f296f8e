#include "audit/entry_format.h"

#include <algorithm>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/json_writer.h"
#include "base/url_query.h"

namespace sealbox::audit {
namespace {

constexpr std::string_view kHashPrefix = "hmac-sha256:";

void AppendHash(std::string& out, const crypto::HmacSha256Key& salt, std::string_view v) {
  uint8_t mac[crypto::HmacSha256Key::kSize];
  salt.SignParts({v}, mac);
  out += kHashPrefix;
  crypto::AppendHex(out, mac, sizeof mac);
}

class EntryWriter {
 public:
  // Fields are written in sorted key order; one whose value turns out empty
  // is left out (Go's omitempty).
  EntryWriter(JsonWriter& w, const EntryOptions& opt, const crypto::HmacSha256Key& salt)
      : w_(w), opt_(opt), salt_(salt) {}

  // Str, Secret, Int and List take the entry's own field names (k).
  void Str(std::string_view k, std::string_view v) {
    if (v.empty()) return;
    w_.PlainKey(k).String(v);
  }
  // A token or accessor: hashed unless the device logs raw. An entry holds
  // the token and its accessor twice each (auth and request): each is
  // hashed once.
  void Secret(std::string_view k, std::string_view v, bool hash = true) {
    if (v.empty()) return;
    w_.PlainKey(k);
    if (!hash || opt_.log_raw) return w_.String(v);
    std::string& out = w_.RawValue();
    out += '"';
    for (const Memo& m : memo_) {
      if (m.size > 0 && m.in == v) {
        out.append(m.out, m.size);
        out += '"';
        return;
      }
    }
    const size_t at = out.size();
    AppendHash(out, salt_, v);
    Memo& m = memo_[memo_next_++ % 2];
    m.in = v;
    m.size = out.size() - at;
    out.copy(m.out, m.size, at);
    out += '"';
  }
  void Accessor(std::string_view k, std::string_view v) { Secret(k, v, opt_.hmac_accessor); }
  void Int(std::string_view k, int64_t v) { w_.PlainKey(k).Int(v); }
  void List(std::string_view k, const std::vector<std::string>& v) {
    if (v.empty()) return;
    w_.PlainKey(k).StringList(v);
  }

  // A field holding a JSON value. `hash`: string and number leaves are
  // hashed (numbers by their JSON text). `skip`: top-level keys of an object
  // value left unhashed (audit_non_hmac_*_keys). Empty values are left out,
  // through nested objects.
  void Value(std::string_view k, const Json& v, bool hash, const std::vector<std::string>* skip = nullptr,
             bool elide = false) {
    switch (v.type()) {
      case Json::value_t::null:
      case Json::value_t::discarded:
        return;
      case Json::value_t::string:
        if (!hash && v.get_ref<const std::string&>().empty()) return;
        w_.Key(k);
        return Element(v, hash);
      case Json::value_t::array:
        if (v.empty()) return;
        w_.Key(k);
        return Element(v, hash);
      case Json::value_t::object: {
        const JsonWriter::Mark mark = w_.mark();
        w_.Key(k).BeginObject();
        for (const auto& [ck, cv] : v.get_ref<const Json::object_t&>()) {
          if (elide && ck == "keys" && cv.is_array()) {
            w_.Key(ck).Int(static_cast<int64_t>(cv.size()));
          } else if (elide && ck == "key_info" && cv.is_object()) {
            w_.Key(ck).Int(static_cast<int64_t>(cv.size()));
          } else {
            Value(ck, cv, hash && !(skip && std::count(skip->begin(), skip->end(), ck) > 0));
          }
        }
        w_.EndObjectOrRewind(mark);
        return;
      }
      default:  // numbers, booleans
        w_.Key(k);
        return Element(v, hash);
    }
  }

  // A value inside a list: written whole, nothing left out.
  void Element(const Json& v, bool hash) {
    switch (v.type()) {
      case Json::value_t::string:
        if (!hash || opt_.log_raw) return w_.String(v.get_ref<const std::string&>());
        return HashedString(v.get_ref<const std::string&>());
      case Json::value_t::number_integer:
      case Json::value_t::number_unsigned:
      case Json::value_t::number_float:
        if (!hash || opt_.log_raw) return w_.Value(v);
        return HashedString(DumpJson(v));
      case Json::value_t::array:
        w_.BeginArray();
        for (const Json& e : v.get_ref<const Json::array_t&>()) Element(e, hash);
        return w_.EndArray();
      case Json::value_t::object:
        w_.BeginObject();
        for (const auto& [ck, cv] : v.get_ref<const Json::object_t&>()) {
          w_.Key(ck);
          Element(cv, hash);
        }
        return w_.EndObject();
      default:  // booleans, null
        return w_.Value(v);
    }
  }

  // The data of a request refused before authentication: the body's size
  // and HMAC (even for a device that logs raw), so an anonymous body costs
  // the log a few bytes however large or many-keyed it is, and an operator
  // can still tell whether a body they hold is the one sent (sys/audit-hash).
  void ElidedBody(std::string_view k, std::string_view body) {
    if (body.empty()) return;
    w_.PlainKey(k).BeginObject();
    Int("elided_body_bytes", static_cast<int64_t>(body.size()));
    w_.PlainKey("elided_body_hmac");
    HashedString(body);
    w_.EndObject();
  }

  // auth/token/{lookup,renew,revoke,...}/<token> carries a token in the
  // path itself (Vault logs it in clear): that segment is hashed like any
  // token.
  void Path(std::string_view k, std::string_view p) {
    if (opt_.log_raw || TokenSegment(p) == std::string_view::npos) return Str(k, p);
    std::string redacted;
    AppendPath(redacted, p);
    Str(k, redacted);
  }

  // The request target: its path as Path writes it, and its query with every
  // value hashed as a body value is (`?token=...` is a token), keys and
  // order kept; values of the mount's audit_non_hmac_request_keys stay clear.
  void RequestUri(std::string_view k, std::string_view uri, const std::vector<std::string>& clear_keys) {
    const size_t qm = uri.find('?');
    if (opt_.log_raw || (qm == std::string_view::npos && TokenSegment(uri) == std::string_view::npos))
      return Str(k, uri);
    std::string redacted;
    AppendPath(redacted, uri.substr(0, qm));
    if (qm != std::string_view::npos) {
      redacted += '?';
      bool first = true;
      ForEachQueryPair(uri.substr(qm + 1), [&](std::string_view key, std::string_view value, bool has_value) {
        if (!first) redacted += '&';
        first = false;
        redacted.append(key);
        if (!has_value) return;
        redacted += '=';
        const std::string decoded = PercentDecode(value, true);
        if (decoded.empty()) return;
        if (std::count(clear_keys.begin(), clear_keys.end(), PercentDecode(key, true)) > 0) {
          redacted.append(value);
        } else {
          AppendHash(redacted, salt_, decoded);
        }
      });
    }
    Str(k, redacted);
  }

  // The token block of a request (the caller's token) or of a response (the
  // token a login or create issued).
  template <typename T>
  void TokenBlock(const std::string& client_token, const T& t, const std::vector<std::string>& policies,
                  const std::vector<std::string>& token_policies, int64_t issue_time_nanos) {
    const JsonWriter::Mark mark = w_.mark();
    w_.PlainKey("auth").BeginObject();
    Accessor("accessor", t.accessor);
    Secret("client_token", client_token);
    Str("display_name", t.display_name);
    Str("entity_id", t.entity_id);
    Value("metadata", t.metadata, /*hash=*/false);
    List("policies", policies);
    if (issue_time_nanos != 0) Str("token_issue_time", FormatRfc3339(issue_time_nanos / 1'000'000'000));
    List("token_policies", token_policies);
    Int("token_ttl", t.ttl);
    Str("token_type", t.token_type);
    w_.EndObjectOrRewind(mark);
  }

  void MountFields(const logical::Request& req) {
    Str("mount_accessor", req.mount_accessor);
    Str("mount_class", req.mount_class);
    Str("mount_point", req.mount_point);
    Str("mount_type", req.mount_type);
  }

 private:
  // "hmac-sha256:<hex>" of `v`, as a string value.
  void HashedString(std::string_view v) {
    std::string& out = w_.RawValue();
    out += '"';
    AppendHash(out, salt_, v);
    out += '"';
  }

  // Where the token segment of (/v1/)auth/token/<op>/<token> starts in a
  // path without query; npos when there is none.
  static size_t TokenSegment(std::string_view p) {
    for (std::string_view prefix : {"/v1/auth/token/", "auth/token/"}) {
      if (p.substr(0, prefix.size()) != prefix) continue;
      const size_t op_end = p.find('/', prefix.size());
      if (op_end == std::string_view::npos || op_end + 1 >= p.size()) return std::string_view::npos;
      return op_end + 1;
    }
    return std::string_view::npos;
  }

  // `p` (no query) with its token segment, if any, hashed.
  void AppendPath(std::string& out, std::string_view p) const {
    const size_t at = TokenSegment(p);
    out.append(p.substr(0, at));
    if (at != std::string_view::npos) AppendHash(out, salt_, p.substr(at));
  }

  // A hashed secret and its text, for its second appearance.
  struct Memo {
    std::string_view in;
    char out[kHashPrefix.size() + 2 * crypto::HmacSha256Key::kSize];
    size_t size = 0;
  };
  JsonWriter& w_;
  const EntryOptions& opt_;
  const crypto::HmacSha256Key& salt_;
  Memo memo_[2];
  unsigned memo_next_ = 0;
};

}  // namespace

std::string HashValue(const crypto::HmacSha256Key& salt, std::string_view v) {
  std::string out;
  AppendHash(out, salt, v);
  return out;
}

void AppendEntry(std::string& out, std::string_view type, std::string_view time, const logical::Request& req,
                 const MountInfo& mount, const logical::Response* resp, std::string_view error,
                 const EntryOptions& opt, const crypto::HmacSha256Key& salt) {
  JsonWriter j(out);
  EntryWriter w(j, opt, salt);
  const bool hash = !opt.log_raw;
  j.BeginObject();
  if (req.token) {
    const auto& t = *req.token;
    w.TokenBlock(req.client_token, t, t.policies, t.policies, t.issue_time_nanos);
  }
  w.Str("error", error);
  {
    const JsonWriter::Mark mark = j.mark();
    j.PlainKey("request").BeginObject();
    w.Secret("client_token", req.client_token);
    if (req.token) w.Accessor("client_token_accessor", req.token->accessor);
    if (req.data_elided) {
      w.ElidedBody("data", req.raw_body);
    } else {
      w.Value("data", req.data, hash, &mount.non_hmac_request_keys);
    }
    w.Str("id", req.id);
    w.MountFields(req);
    j.PlainKey("namespace").RawValue() += R"({"id":"root"})";
    w.Str("operation", logical::OperationName(req.op));
    w.Path("path", req.original_path.empty() ? req.path : req.original_path);
    w.Str("remote_address", req.remote_addr);
    if (req.remote_port != 0) w.Int("remote_port", req.remote_port);
    w.RequestUri("request_uri", req.request_uri, mount.non_hmac_request_keys);
    if (req.wrap_ttl != 0) w.Int("wrap_ttl", req.wrap_ttl);
    j.EndObjectOrRewind(mark);
  }
  if (resp) {
    const JsonWriter::Mark mark = j.mark();
    j.PlainKey("response").BeginObject();
    if (resp->auth) {
      const auto& a = *resp->auth;
      w.TokenBlock(a.client_token, a, a.policies, a.token_policies, 0);
    }
    if (resp->data) {
      const bool elide = opt.elide_lists && req.op == logical::Operation::kList;
      w.Value("data", *resp->data, hash, &mount.non_hmac_response_keys, elide);
    }
    w.MountFields(req);
    if (resp->secret && !resp->secret->lease_id.empty()) {
      j.PlainKey("secret").BeginObject();
      w.Str("lease_id", resp->secret->lease_id);
      j.EndObject();
    }
    w.List("warnings", resp->warnings);
    if (resp->wrap_info) {
      const auto& wi = *resp->wrap_info;
      j.PlainKey("wrap_info").BeginObject();
      w.Accessor("accessor", wi.accessor);
      w.Str("creation_path", wi.creation_path);
      w.Str("creation_time", wi.creation_time);
      w.Secret("token", wi.token);
      w.Int("ttl", wi.ttl);
      w.Accessor("wrapped_accessor", wi.wrapped_accessor);
      j.EndObject();
    }
    j.EndObjectOrRewind(mark);
  }
  w.Str("time", time);
  w.Str("type", type);
  j.EndObject();
}

}  // namespace sealbox::audit
