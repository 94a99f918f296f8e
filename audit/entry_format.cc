#include "audit/entry_format.h"

#include <algorithm>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/json_util.h"
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

// One JSON object being appended to `out`. Fields must be added in sorted key
// order. A field whose value turns out empty is taken back with Drop.
class Object {
 public:
  explicit Object(std::string& out) : out_(out) { out_ += '{'; }

  // Writes `"k":` and returns the mark Drop needs. A key from data is
  // escaped; Name is for the entry's own field names, which need none.
  size_t Key(std::string_view k) {
    const size_t mark = out_.size();
    if (fields_++ > 0) out_ += ',';
    AppendJsonString(out_, k);
    out_ += ':';
    return mark;
  }
  size_t Name(std::string_view k) {
    const size_t mark = out_.size();
    out_.append(fields_++ > 0 ? ",\"" : "\"");
    out_.append(k);
    out_.append("\":");
    return mark;
  }
  void Drop(size_t mark) {
    out_.resize(mark);
    --fields_;
  }
  // Closes the object; false (and nothing written) when it has no field, so
  // the parent drops the key: Go's omitempty on a map.
  bool End() {
    if (fields_ == 0) return false;
    out_ += '}';
    return true;
  }

 private:
  std::string& out_;
  int fields_ = 0;
};

class EntryWriter {
 public:
  EntryWriter(std::string& out, const EntryOptions& opt, const crypto::HmacSha256Key& salt)
      : out_(out), opt_(opt), salt_(salt) {}

  // Str, Secret, Int and List take the entry's own field names (k).
  void Str(Object& o, std::string_view k, std::string_view v) {
    if (v.empty()) return;
    o.Name(k);
    AppendJsonString(out_, v);
  }
  // A token or accessor: hashed unless the device logs raw. An entry holds
  // the token and its accessor twice each (auth and request): each is
  // hashed once.
  void Secret(Object& o, std::string_view k, std::string_view v, bool hash = true) {
    if (v.empty()) return;
    o.Name(k);
    if (!hash || opt_.log_raw) return AppendJsonString(out_, v);
    out_ += '"';
    for (const Memo& m : memo_) {
      if (m.size > 0 && m.in == v) {
        out_.append(m.out, m.size);
        out_ += '"';
        return;
      }
    }
    const size_t at = out_.size();
    AppendHash(out_, salt_, v);
    Memo& m = memo_[memo_next_++ % 2];
    m.in = v;
    m.size = out_.size() - at;
    out_.copy(m.out, m.size, at);
    out_ += '"';
  }
  void Accessor(Object& o, std::string_view k, std::string_view v) { Secret(o, k, v, opt_.hmac_accessor); }
  void Int(Object& o, std::string_view k, int64_t v) {
    o.Name(k);
    out_ += std::to_string(v);
  }
  void List(Object& o, std::string_view k, const std::vector<std::string>& v) {
    if (v.empty()) return;
    o.Name(k);
    out_ += '[';
    for (size_t i = 0; i < v.size(); ++i) {
      if (i > 0) out_ += ',';
      AppendJsonString(out_, v[i]);
    }
    out_ += ']';
  }

  // A field holding a JSON value. `hash`: string and number leaves are
  // hashed (numbers by their JSON text). `skip`: top-level keys of an object
  // value left unhashed (audit_non_hmac_*_keys). Empty values are left out,
  // through nested objects.
  void Value(Object& o, std::string_view k, const Json& v, bool hash, const std::vector<std::string>* skip = nullptr,
             bool elide = false) {
    switch (v.type()) {
      case Json::value_t::null:
      case Json::value_t::discarded:
        return;
      case Json::value_t::string:
        if (!hash && v.get_ref<const std::string&>().empty()) return;
        o.Key(k);
        return Element(v, hash);
      case Json::value_t::array:
        if (v.empty()) return;
        o.Key(k);
        return Element(v, hash);
      case Json::value_t::object: {
        const size_t mark = o.Key(k);
        Object child(out_);
        for (const auto& [ck, cv] : v.get_ref<const Json::object_t&>()) {
          if (elide && ck == "keys" && cv.is_array()) {
            Int(child, ck, static_cast<int64_t>(cv.size()));
          } else if (elide && ck == "key_info" && cv.is_object()) {
            Int(child, ck, static_cast<int64_t>(cv.size()));
          } else {
            Value(child, ck, cv, hash && !(skip && std::count(skip->begin(), skip->end(), ck) > 0));
          }
        }
        if (!child.End()) o.Drop(mark);
        return;
      }
      default:  // numbers, booleans
        o.Key(k);
        return Element(v, hash);
    }
  }

  // A value inside a list: written whole, nothing left out.
  void Element(const Json& v, bool hash) {
    switch (v.type()) {
      case Json::value_t::string:
        if (!hash || opt_.log_raw) return AppendJsonString(out_, v.get_ref<const std::string&>());
        out_ += '"';
        AppendHash(out_, salt_, v.get_ref<const std::string&>());
        out_ += '"';
        return;
      case Json::value_t::number_integer:
      case Json::value_t::number_unsigned:
      case Json::value_t::number_float:
        if (!hash || opt_.log_raw) return AppendJson(out_, v);
        out_ += '"';
        AppendHash(out_, salt_, DumpJson(v));
        out_ += '"';
        return;
      case Json::value_t::array: {
        out_ += '[';
        bool first = true;
        for (const Json& e : v.get_ref<const Json::array_t&>()) {
          if (!first) out_ += ',';
          first = false;
          Element(e, hash);
        }
        out_ += ']';
        return;
      }
      case Json::value_t::object: {
        out_ += '{';
        bool first = true;
        for (const auto& [ck, cv] : v.get_ref<const Json::object_t&>()) {
          if (!first) out_ += ',';
          first = false;
          AppendJsonString(out_, ck);
          out_ += ':';
          Element(cv, hash);
        }
        out_ += '}';
        return;
      }
      default:  // booleans, null
        return AppendJson(out_, v);
    }
  }

  // The data of a request refused before authentication: the body's size
  // and HMAC (even for a device that logs raw), so an anonymous body costs
  // the log a few bytes however large or many-keyed it is, and an operator
  // can still tell whether a body they hold is the one sent (sys/audit-hash).
  void ElidedBody(Object& o, std::string_view k, std::string_view body) {
    if (body.empty()) return;
    o.Name(k);
    Object d(out_);
    Int(d, "elided_body_bytes", static_cast<int64_t>(body.size()));
    d.Name("elided_body_hmac");
    out_ += '"';
    AppendHash(out_, salt_, body);
    out_ += '"';
    d.End();
  }

  // auth/token/{lookup,renew,revoke,...}/<token> carries a token in the
  // path itself (Vault logs it in clear): that segment is hashed like any
  // token.
  void Path(Object& o, std::string_view k, std::string_view p) {
    if (opt_.log_raw || TokenSegment(p) == std::string_view::npos) return Str(o, k, p);
    std::string redacted;
    AppendPath(redacted, p);
    Str(o, k, redacted);
  }

  // The request target: its path as Path writes it, and its query with every
  // value hashed as a body value is (`?token=...` is a token), keys and
  // order kept; values of the mount's audit_non_hmac_request_keys stay clear.
  void RequestUri(Object& o, std::string_view k, std::string_view uri, const std::vector<std::string>& clear_keys) {
    const size_t qm = uri.find('?');
    if (opt_.log_raw || (qm == std::string_view::npos && TokenSegment(uri) == std::string_view::npos))
      return Str(o, k, uri);
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
    Str(o, k, redacted);
  }

  // The token block of a request (the caller's token) or of a response (the
  // token a login or create issued).
  template <typename T>
  void TokenBlock(Object& o, const std::string& client_token, const T& t, const std::vector<std::string>& policies,
                  const std::vector<std::string>& token_policies, int64_t issue_time_nanos) {
    const size_t mark = o.Name("auth");
    Object a(out_);
    Accessor(a, "accessor", t.accessor);
    Secret(a, "client_token", client_token);
    Str(a, "display_name", t.display_name);
    Str(a, "entity_id", t.entity_id);
    Value(a, "metadata", t.metadata, /*hash=*/false);
    List(a, "policies", policies);
    if (issue_time_nanos != 0) Str(a, "token_issue_time", FormatRfc3339(issue_time_nanos / 1'000'000'000));
    List(a, "token_policies", token_policies);
    Int(a, "token_ttl", t.ttl);
    Str(a, "token_type", t.token_type);
    if (!a.End()) o.Drop(mark);
  }

  void MountFields(Object& o, const logical::Request& req) {
    Str(o, "mount_accessor", req.mount_accessor);
    Str(o, "mount_class", req.mount_class);
    Str(o, "mount_point", req.mount_point);
    Str(o, "mount_type", req.mount_type);
  }

 private:
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
  std::string& out_;
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
  EntryWriter w(out, opt, salt);
  const bool hash = !opt.log_raw;
  Object e(out);
  if (req.token) {
    const auto& t = *req.token;
    w.TokenBlock(e, req.client_token, t, t.policies, t.policies, t.issue_time_nanos);
  }
  w.Str(e, "error", error);
  {
    const size_t mark = e.Name("request");
    Object r(out);
    w.Secret(r, "client_token", req.client_token);
    if (req.token) w.Accessor(r, "client_token_accessor", req.token->accessor);
    if (req.data_elided) {
      w.ElidedBody(r, "data", req.raw_body);
    } else {
      w.Value(r, "data", req.data, hash, &mount.non_hmac_request_keys);
    }
    w.Str(r, "id", req.id);
    w.MountFields(r, req);
    r.Name("namespace");
    out += R"({"id":"root"})";
    w.Str(r, "operation", logical::OperationName(req.op));
    w.Path(r, "path", req.original_path.empty() ? req.path : req.original_path);
    w.Str(r, "remote_address", req.remote_addr);
    if (req.remote_port != 0) w.Int(r, "remote_port", req.remote_port);
    w.RequestUri(r, "request_uri", req.request_uri, mount.non_hmac_request_keys);
    if (!r.End()) e.Drop(mark);
  }
  if (resp) {
    const size_t mark = e.Name("response");
    Object r(out);
    if (resp->auth) {
      const auto& a = *resp->auth;
      w.TokenBlock(r, a.client_token, a, a.policies, a.token_policies, 0);
    }
    if (resp->data) {
      const bool elide = opt.elide_lists && req.op == logical::Operation::kList;
      w.Value(r, "data", *resp->data, hash, &mount.non_hmac_response_keys, elide);
    }
    w.MountFields(r, req);
    if (resp->secret && !resp->secret->lease_id.empty()) {
      r.Name("secret");
      Object s(out);
      w.Str(s, "lease_id", resp->secret->lease_id);
      s.End();
    }
    w.List(r, "warnings", resp->warnings);
    if (!r.End()) e.Drop(mark);
  }
  w.Str(e, "time", time);
  w.Str(e, "type", type);
  e.End();
}

}  // namespace sealbox::audit
