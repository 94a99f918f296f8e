#include "cli/cli.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "base/hcl.h"
#include "base/json_util.h"

namespace sealbox::cli {
namespace {

std::shared_ptr<HttpClient>& Client() {
  static std::shared_ptr<HttpClient> c;
  return c;
}

std::string Env(const char* name) {
  // SEALBOX_* aliases win over VAULT_*.
  std::string sb = std::string("SEALBOX_") + (name + 6);
  if (const char* v = std::getenv(sb.c_str()); v && *v) return v;
  if (const char* v = std::getenv(name); v && *v) return v;
  return "";
}

struct Args {
  std::vector<std::string> pos;
  std::map<std::string, std::string> flags;
  bool Has(const std::string& k) const { return flags.count(k) > 0; }
  std::string Get(const std::string& k, const std::string& def = "") const {
    auto it = flags.find(k);
    return it == flags.end() ? def : it->second;
  }
};

// Flags that take a value as the next argument when not given as -k=v.
const char* kValueFlags[] = {"address", "ca-cert", "format", "field", "path", "mount", "version", "versions", "cas",
                             "policy", "ttl", "key-shares", "key-threshold",
                             "recovery-shares", "recovery-threshold", "description", "display-name",
                             "explicit-max-ttl", "period", "use-limit", "type", "accessor", "increment",
                             "default-lease-ttl", "max-lease-ttl", "options", "file", "key", "prefix"};

Args Parse(int argc, char** argv, int from) {
  Args a;
  bool flags_done = false;
  for (int i = from; i < argc; ++i) {
    std::string s = argv[i];
    if (!flags_done && s == "--") {
      flags_done = true;
      continue;
    }
    if (!flags_done && s.size() > 1 && s[0] == '-' && s != "-") {
      std::string f = s.substr(s[1] == '-' ? 2 : 1);
      size_t eq = f.find('=');
      if (eq != std::string::npos) {
        a.flags[f.substr(0, eq)] = f.substr(eq + 1);
      } else if (std::any_of(std::begin(kValueFlags), std::end(kValueFlags), [&](const char* v) { return f == v; }) &&
                 i + 1 < argc) {
        std::string v = argv[++i];
        if (f == "policy" && a.flags.count("policy")) v = a.flags["policy"] + "," + v;  // repeatable
        a.flags[f] = v;
      } else {
        a.flags[f] = "true";
      }
      continue;
    }
    a.pos.push_back(s);
  }
  return a;
}

struct Ctx {
  std::string addr;
  std::string token;
  TlsClientConfig tls;
  std::string format = "table";
  std::string field;
  std::string ns;
};

std::string HomeTokenPath() {
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.vault-token";
}

Ctx MakeCtx(const Args& a) {
  Ctx c;
  c.addr = a.Get("address", Env("VAULT_ADDR"));
  if (c.addr.empty()) c.addr = "https://127.0.0.1:8200";
  while (!c.addr.empty() && c.addr.back() == '/') c.addr.pop_back();
  c.token = Env("VAULT_TOKEN");
  if (c.token.empty()) {
    std::ifstream in(HomeTokenPath());
    std::getline(in, c.token);
  }
  c.tls.ca_file = a.Get("ca-cert", Env("VAULT_CACERT"));
  c.tls.ca_path = Env("VAULT_CAPATH");
  std::string skip = a.Get("tls-skip-verify", Env("VAULT_SKIP_VERIFY"));
  c.tls.insecure_skip_verify = ParseBoolString(skip).value_or(false);
  c.format = a.Get("format", Env("VAULT_FORMAT"));
  if (c.format.empty()) c.format = "table";
  c.field = a.Get("field");
  c.ns = Env("VAULT_NAMESPACE");
  return c;
}

struct Reply {
  int status = 0;
  Json body;  // null for an empty body
  std::string url;
  std::string method;
};

Result<Reply> Call(const Ctx& c, const std::string& method, const std::string& path, const Json& body = nullptr) {
  if (!Client()) return Internal("no HTTP client");
  HttpClientRequest r;
  r.method = method;
  r.url = c.addr + "/v1/" + path;
  r.tls = c.tls;
  r.timeout_ms = 60000;
  r.headers = {{"X-Vault-Request", "true"}};
  if (!c.token.empty()) r.headers.emplace_back("X-Vault-Token", c.token);
  if (!c.ns.empty()) r.headers.emplace_back("X-Vault-Namespace", c.ns);
  if (!body.is_null()) {
    r.body = DumpJson(body);
    r.headers.emplace_back("Content-Type", method == "PATCH" ? "application/merge-patch+json" : "application/json");
  }
  auto resp = Client()->Do(r);
  if (!resp.ok()) return resp.status();
  Reply out;
  out.status = resp->status;
  out.url = r.url;
  out.method = method;
  if (!resp->body.empty()) out.body = Json::parse(resp->body, nullptr, false);
  return out;
}

// Prints Vault's API error block; returns exit code 2 for 4xx-usage-ish? vault uses 2 for
// request errors, 1 for others; we follow vault: any API error exits 2.
int ApiError(const std::string& what, const Reply& r) {
  std::ostringstream o;
  o << "Error " << what << ": Error making API request.\n\nURL: " << r.method << " " << r.url << "\nCode: " << r.status
    << ". Errors:\n\n";
  if (r.body.is_object() && r.body.contains("errors") && r.body["errors"].is_array())
    for (const auto& e : r.body["errors"]) o << "* " << (e.is_string() ? e.get<std::string>() : e.dump()) << "\n";
  std::cerr << o.str();
  return 2;
}

int Fail(const std::string& msg) {
  std::cerr << "Error: " << msg << "\n";
  return 2;
}

std::string Scalar(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "n/a";
  if (v.is_array()) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + Scalar(v[i]);
    return s + "]";
  }
  if (v.is_object()) {
    std::string s = "map[";
    bool first = true;
    for (auto& [k, x] : v.items()) {
      s += (first ? "" : " ") + k + ":" + Scalar(x);
      first = false;
    }
    return s + "]";
  }
  return v.dump();
}

void Yaml(const Json& v, int indent, std::ostream& o) {
  std::string pad(indent, ' ');
  if (v.is_object()) {
    for (auto& [k, x] : v.items()) {
      o << pad << k << ":";
      if ((x.is_object() && !x.empty()) || (x.is_array() && !x.empty())) {
        o << "\n";
        Yaml(x, indent + 2, o);
      } else {
        o << " " << (x.is_string() ? Json(x).dump() : x.is_null() ? "null" : x.is_object() ? "{}" : x.is_array() ? "[]" : x.dump()) << "\n";
      }
    }
  } else if (v.is_array()) {
    for (const auto& x : v) {
      if (x.is_object() || x.is_array()) {
        o << pad << "-\n";
        Yaml(x, indent + 2, o);
      } else {
        o << pad << "- " << (x.is_string() ? x.dump() : x.dump()) << "\n";
      }
    }
  }
}

// Columns aligned with four spaces between them, as vault's columnize.
void Columns(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w(header.size());
  for (size_t i = 0; i < header.size(); ++i) w[i] = header[i].size();
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], r[i].size());
  auto line = [&](const std::vector<std::string>& r) {
    std::string out;
    for (size_t i = 0; i < r.size(); ++i) out += r[i] + (i + 1 < r.size() ? std::string(w[i] - r[i].size() + 4, ' ') : "");
    std::cout << out << "\n";
  };
  line(header);
  std::vector<std::string> dashes;
  for (const auto& h : header) dashes.push_back(std::string(h.size(), '-'));
  line(dashes);
  for (const auto& r : rows) line(r);
}

void Table(const std::vector<std::pair<std::string, std::string>>& rows) {
  std::vector<std::vector<std::string>> r;
  for (const auto& [k, v] : rows) r.push_back({k, v});
  Columns({"Key", "Value"}, r);
}

// Output for a secret-like reply: -field, json, yaml or a Key/Value table.
int Output(const Ctx& c, const Json& env, const Json& data) {
  if (!c.field.empty()) {
    const Json* v = nullptr;
    // The table's names for auth fields (vault's `-field=token`) map to the wire names.
    static const std::map<std::string, std::string> kAuthFields = {
        {"token", "client_token"}, {"token_accessor", "accessor"}, {"token_duration", "lease_duration"},
        {"token_renewable", "renewable"}, {"token_policies", "token_policies"}};
    auto alias = kAuthFields.find(c.field);
    const std::string auth_field = alias == kAuthFields.end() ? c.field : alias->second;
    if (data.is_object() && data.contains(c.field)) v = &data[c.field];
    else if (env.is_object() && env.contains("auth") && env["auth"].is_object() && env["auth"].contains(auth_field))
      v = &env["auth"][auth_field];
    if (!v) return Fail("field \"" + c.field + "\" not present in secret");
    std::cout << (v->is_string() ? v->get<std::string>() : v->dump()) << "\n";
    return 0;
  }
  if (c.format == "json") {
    std::cout << env.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
    return 0;
  }
  if (c.format == "yaml") {
    Yaml(env, 0, std::cout);
    return 0;
  }
  std::vector<std::pair<std::string, std::string>> rows;
  if (env.is_object() && env.value("lease_duration", 0) > 0) {
    if (!env.value("lease_id", "").empty()) rows.push_back({"lease_id", env["lease_id"]});
    rows.push_back({"refresh_interval", std::to_string(env["lease_duration"].get<int64_t>()) + "s"});
    if (!env.value("lease_id", "").empty()) rows.push_back({"lease_renewable", env.value("renewable", false) ? "true" : "false"});
  }
  if (env.is_object() && env.contains("auth") && env["auth"].is_object()) {
    const Json& a = env["auth"];
    rows.push_back({"token", a.value("client_token", "")});
    rows.push_back({"token_accessor", a.value("accessor", "")});
    rows.push_back({"token_duration", std::to_string(a.value("lease_duration", int64_t{0})) + "s"});
    rows.push_back({"token_renewable", a.value("renewable", false) ? "true" : "false"});
    rows.push_back({"token_policies", Scalar(a.value("token_policies", a.value("policies", Json::array())))});
    rows.push_back({"policies", Scalar(a.value("policies", Json::array()))});
  }
  if (data.is_object())
    for (auto& [k, v] : data.items()) rows.push_back({k, Scalar(v)});
  Table(rows);
  return 0;
}

int PrintList(const Ctx& c, const Json& env) {
  const Json& keys = env["data"]["keys"];
  if (c.format == "json") {
    std::cout << keys.dump(2) << "\n";
    return 0;
  }
  if (c.format == "yaml") {
    Yaml(keys, 0, std::cout);
    return 0;
  }
  std::cout << "Keys\n----\n";
  for (const auto& k : keys) std::cout << k.get<std::string>() << "\n";
  return 0;
}

// k=v, k=@file, k=- (stdin), as the vault CLI.
Result<Json> KvArgs(const std::vector<std::string>& items) {
  Json out = Json::object();
  for (const auto& it : items) {
    size_t eq = it.find('=');
    if (eq == std::string::npos || eq == 0) return InvalidArgument("invalid key/value pair \"" + it + "\"");
    std::string k = it.substr(0, eq), v = it.substr(eq + 1);
    if (v == "-") {
      std::stringstream ss;
      ss << std::cin.rdbuf();
      v = ss.str();
    } else if (!v.empty() && v[0] == '@') {
      std::ifstream in(v.substr(1), std::ios::binary);
      if (!in) return InvalidArgument("cannot read " + v.substr(1));
      std::stringstream ss;
      ss << in.rdbuf();
      v = ss.str();
    }
    out[k] = v;
  }
  return out;
}

// ---- commands ----

int Status(const Ctx& c, const Args&) {
  auto r = Call(c, "GET", "sys/seal-status");
  if (!r.ok()) return Fail(r.status().message()), 1;
  if (r->status != 200) return ApiError("checking seal status", *r), 1;
  const Json& s = r->body;
  if (c.format == "json") {
    std::cout << s.dump(2) << "\n";
  } else if (c.format == "yaml") {
    Yaml(s, 0, std::cout);
  } else {
    std::vector<std::pair<std::string, std::string>> rows = {
        {"Seal Type", s.value("type", "shamir")},
        {"Initialized", s.value("initialized", false) ? "true" : "false"},
        {"Sealed", s.value("sealed", true) ? "true" : "false"}};
    // As vault prints it: an auto-unseal vault counts recovery shares.
    const bool recovery = s.value("recovery_seal", false);
    if (recovery) rows.insert(rows.begin() + 1, {"Recovery Seal Type", "shamir"});
    rows.push_back({recovery ? "Total Recovery Shares" : "Total Shares", std::to_string(s.value("n", 0))});
    rows.push_back({"Threshold", std::to_string(s.value("t", 0))});
    if (s.value("sealed", true)) {
      rows.push_back({"Unseal Progress", std::to_string(s.value("progress", 0)) + "/" + std::to_string(s.value("t", 0))});
      rows.push_back({"Unseal Nonce", s.value("nonce", "").empty() ? "n/a" : s.value("nonce", "")});
    }
    rows.push_back({"Version", s.value("version", "")});
    rows.push_back({"Build Date", s.value("build_date", "")});
    rows.push_back({"Storage Type", s.value("storage_type", "")});
    if (!s.value("sealed", true)) {
      rows.push_back({"Cluster Name", s.value("cluster_name", "")});
      rows.push_back({"Cluster ID", s.value("cluster_id", "")});
    }
    rows.push_back({"HA Enabled", "false"});
    Table(rows);
  }
  return s.value("sealed", true) ? 2 : 0;
}

int Operator(const Ctx& c, const Args& a) {
  if (a.pos.empty()) return Fail("usage: sealbox operator <init|unseal|seal|step-down|rotate|key-status>");
  const std::string& sub = a.pos[0];
  if (sub == "init") {
    // As vault does: an auto-unseal (static) seal takes recovery shares instead.
    auto st = Call(c, "GET", "sys/seal-status", Json());
    if (!st.ok()) return Fail(st.status().message());
    const bool recovery = st->status == 200 && st->body.value("recovery_seal", false);
    Json body;
    if (recovery) {
      body = {{"recovery_shares", std::stoi(a.Get("recovery-shares", "5"))},
              {"recovery_threshold", std::stoi(a.Get("recovery-threshold", "3"))}};
    } else {
      body = {{"secret_shares", std::stoi(a.Get("key-shares", "5"))},
              {"secret_threshold", std::stoi(a.Get("key-threshold", "3"))}};
    }
    auto r = Call(c, "PUT", "sys/init", body);
    if (!r.ok()) return Fail(r.status().message());
    if (r->status != 200) return ApiError("initializing", *r);
    if (c.format == "json") {
      std::cout << r->body.dump(2) << "\n";
      return 0;
    }
    if (recovery) {
      const Json& rkeys = r->body["recovery_keys_base64"];
      for (size_t i = 0; i < rkeys.size(); ++i)
        std::cout << "Recovery Key " << i + 1 << ": " << rkeys[i].get<std::string>() << "\n";
      std::cout << "\nInitial Root Token: " << r->body["root_token"].get<std::string>() << "\n\n"
                << "Success! Vault is initialized\n\n"
                << "Recovery key initialized with " << rkeys.size() << " key shares and a key threshold of "
                << body["recovery_threshold"] << ". Please\nsecurely distribute the key shares printed above.\n";
      return 0;
    }
    const Json& keys = r->body["keys_base64"];
    for (size_t i = 0; i < keys.size(); ++i)
      std::cout << "Unseal Key " << i + 1 << ": " << keys[i].get<std::string>() << "\n";
    std::cout << "\nInitial Root Token: " << r->body["root_token"].get<std::string>() << "\n\n"
              << "Vault initialized with " << keys.size() << " key shares and a key threshold of "
              << body["secret_threshold"] << ". Please securely\ndistribute the key shares printed above. When the "
              << "Vault is re-sealed,\nrestarted, or stopped, you must supply at least " << body["secret_threshold"]
              << " of these keys to unseal it\nbefore it can start servicing requests.\n";
    return 0;
  }
  if (sub == "unseal") {
    Json body;
    if (a.Has("reset")) {
      body = {{"reset", true}};
    } else {
      std::string key = a.pos.size() > 1 ? a.pos[1] : "";
      if (key.empty() || key == "-") std::getline(std::cin, key);
      body = {{"key", key}};
    }
    auto r = Call(c, "PUT", "sys/unseal", body);
    if (!r.ok()) return Fail(r.status().message());
    if (r->status != 200) return ApiError("unsealing", *r);
    Args none;
    return Status(c, none) == 2 ? 0 : 0;
  }
  if (sub == "seal" || sub == "step-down" || sub == "rotate") {
    auto r = Call(c, "PUT", "sys/" + sub);
    if (!r.ok()) return Fail(r.status().message());
    if (r->status >= 300) return ApiError(sub == "seal" ? "sealing" : sub, *r);
    std::cout << (sub == "seal" ? "Success! Vault is sealed." : sub == "rotate" ? "Success! Rotated key" : "Success! Stepped down")
              << "\n";
    return 0;
  }
  if (sub == "key-status") {
    auto r = Call(c, "GET", "sys/key-status");
    if (!r.ok()) return Fail(r.status().message());
    if (r->status != 200) return ApiError("reading key status", *r);
    return Output(c, r->body, r->body["data"]);
  }
  return Fail("unknown operator subcommand " + sub);
}

int Generic(const Ctx& c, const std::string& verb, const Args& a) {
  if (a.pos.empty()) return Fail("usage: sealbox " + verb + " PATH");
  std::string path = a.pos[0];
  while (!path.empty() && path[0] == '/') path.erase(0, 1);
  if (verb == "read") {
    auto r = Call(c, "GET", path);
    if (!r.ok()) return Fail(r.status().message());
    if (r->status == 404 && (!r->body.is_object() || r->body["errors"].empty())) {
      std::cerr << "No value found at " << path << "\n";
      return 2;
    }
    if (r->status != 200) return ApiError("reading " + path, *r);
    return Output(c, r->body, r->body["data"]);
  }
  if (verb == "list") {
    auto r = Call(c, "LIST", path);
    if (!r.ok()) return Fail(r.status().message());
    if (r->status == 404) {
      std::cerr << "No value found at " << path << "\n";
      return 2;
    }
    if (r->status != 200) return ApiError("listing " + path, *r);
    return PrintList(c, r->body);
  }
  if (verb == "delete") {
    auto r = Call(c, "DELETE", path);
    if (!r.ok()) return Fail(r.status().message());
    if (r->status >= 300) return ApiError("deleting " + path, *r);
    std::cout << "Success! Data deleted (if it existed) at: " << path << "\n";
    return 0;
  }
  // write / patch
  auto data = KvArgs(std::vector<std::string>(a.pos.begin() + 1, a.pos.end()));
  if (!data.ok()) return Fail(data.status().message());
  auto r = Call(c, verb == "patch" ? "PATCH" : "PUT", path, *data);
  if (!r.ok()) return Fail(r.status().message());
  if (r->status >= 300) return ApiError("writing to " + path, *r);
  if (r->status == 204) {
    std::cout << "Success! Data written to: " << path << "\n";
    return 0;
  }
  return Output(c, r->body, r->body["data"]);
}

// The vault CLI's preflight: which mount serves `path`, and its KV version.
struct KvMount {
  std::string mount;  // "secret/"
  bool v2 = false;
};

Result<KvMount> Preflight(const Ctx& c, const std::string& path, const std::string& explicit_mount) {
  std::string probe = explicit_mount.empty() ? path : explicit_mount;
  auto r = Call(c, "GET", "sys/internal/ui/mounts/" + probe);
  if (!r.ok()) return r.status();
  KvMount m;
  if (r->status == 404) {
    m.mount = explicit_mount.empty() ? path.substr(0, path.find('/') + 1) : explicit_mount + "/";
    return m;
  }
  if (r->status != 200) {
    ApiError("preflight capability check", *r);
    return PermissionDenied("preflight failed");
  }
  const Json& d = r->body["data"];
  m.mount = d.value("path", "");
  const Json& opts = d.value("options", Json(nullptr));
  m.v2 = opts.is_object() && opts.value("version", "") == "2";
  return m;
}

int Kv(const Ctx& c, const Args& a) {
  if (a.pos.size() < 2) return Fail("usage: sealbox kv <get|put|patch|list|delete|undelete|destroy|rollback|metadata> PATH");
  std::string sub = a.pos[0];
  size_t pi = 1;
  std::string meta_sub;
  if (sub == "metadata") {
    if (a.pos.size() < 3) return Fail("usage: sealbox kv metadata <get|put|delete> PATH");
    meta_sub = a.pos[1];
    pi = 2;
  }
  std::string mount_flag = a.Get("mount");
  std::string user_path = a.pos[pi];
  while (!user_path.empty() && user_path[0] == '/') user_path.erase(0, 1);
  std::string full = mount_flag.empty() ? user_path : mount_flag + "/" + user_path;
  auto m = Preflight(c, full, mount_flag);
  if (!m.ok()) return m.status().code() == StatusCode::kPermissionDenied ? 2 : Fail(m.status().message());
  std::string rel = full.substr(std::min(full.size(), m->mount.size()));
  auto api_path = [&](const std::string& kind) { return m->v2 ? m->mount + kind + "/" + rel : m->mount + rel; };
  std::vector<std::string> rest(a.pos.begin() + pi + 1, a.pos.end());

  if (sub == "get") {
    std::string p = api_path("data");
    if (a.Has("version")) p += "?version=" + a.Get("version");
    auto r = Call(c, "GET", p);
    if (!r.ok()) return Fail(r.status().message());
    if (r->status == 404 && (!r->body.is_object() || !r->body.contains("data"))) {
      std::cerr << "No value found at " << p << "\n";
      return 2;
    }
    if (r->status != 200) return ApiError("reading " + p, *r);
    Json data = m->v2 ? r->body["data"]["data"] : r->body["data"];
    if (c.format == "table" && c.field.empty() && m->v2) {
      std::cout << "====== Secret Path ======\n" << p << "\n\n======= Metadata =======\n";
      std::vector<std::pair<std::string, std::string>> rows;
      for (auto& [k, v] : r->body["data"]["metadata"].items()) rows.push_back({k, Scalar(v)});
      Table(rows);
      std::cout << "\n====== Data ======\n";
      std::vector<std::pair<std::string, std::string>> drows;
      if (data.is_object())
        for (auto& [k, v] : data.items()) drows.push_back({k, Scalar(v)});
      Table(drows);
      return 0;
    }
    return Output(c, r->body, data);
  }
  if (sub == "put" || sub == "patch") {
    auto kv = KvArgs(rest);
    if (!kv.ok()) return Fail(kv.status().message());
    Json body = *kv;
    if (m->v2) {
      body = {{"data", *kv}};
      if (a.Has("cas")) body["options"] = {{"cas", std::stoll(a.Get("cas"))}};
    }
    auto r = Call(c, sub == "patch" ? "PATCH" : "PUT", api_path("data"), body);
    if (!r.ok()) return Fail(r.status().message());
    if (r->status >= 300) return ApiError("writing data to " + api_path("data"), *r);
    if (r->status == 204) {
      std::cout << "Success! Data written to: " << api_path("data") << "\n";
      return 0;
    }
    return Output(c, r->body, r->body["data"]);
  }
  if (sub == "list") {
    auto r = Call(c, "LIST", api_path("metadata"));
    if (!r.ok()) return Fail(r.status().message());
    if (r->status == 404) {
      std::cerr << "No value found at " << api_path("metadata") << "\n";
      return 2;
    }
    if (r->status != 200) return ApiError("listing " + api_path("metadata"), *r);
    return PrintList(c, r->body);
  }
  if (sub == "delete" || sub == "undelete" || sub == "destroy") {
    Result<Reply> r = Internal();
    if (sub == "delete" && !a.Has("versions")) {
      r = Call(c, "DELETE", api_path("data"));
    } else {
      if (!m->v2) return Fail(sub + " with versions needs a KV v2 mount");
      Json versions = Json::array();
      std::stringstream ss(a.Get("versions"));
      std::string v;
      while (std::getline(ss, v, ','))
        if (!v.empty()) versions.push_back(std::stoll(v));
      r = Call(c, sub == "destroy" ? "PUT" : "POST", m->mount + sub + "/" + rel, Json{{"versions", versions}});
    }
    if (!r.ok()) return Fail(r.status().message());
    if (r->status >= 300) return ApiError(sub + " " + full, *r);
    std::cout << "Success! Data " << (sub == "undelete" ? "written to" : "deleted (if it existed) at") << ": " << full
              << "\n";
    return 0;
  }
  if (sub == "rollback") {
    // As vault does: read the current version and the target, refuse a
    // deleted or destroyed target, then write its data with cas = current.
    if (!m->v2) return Fail("rollback is only available on KV v2 mounts");
    if (!a.Has("version")) return Fail("usage: sealbox kv rollback -version=N PATH");
    std::string p = api_path("data");
    auto cur = Call(c, "GET", p);
    if (!cur.ok()) return Fail(cur.status().message());
    if (cur->status != 200 && cur->status != 404) return ApiError("reading " + p, *cur);
    if (!cur->body.is_object() || !cur->body.contains("data") || !cur->body["data"].is_object())
      return Fail("No value found at " + p);
    int64_t current = cur->body["data"]["metadata"].value("version", int64_t{0});
    auto target = Call(c, "GET", p + "?version=" + a.Get("version"));
    if (!target.ok()) return Fail(target.status().message());
    if (target->status != 200 || !target->body["data"]["data"].is_object())
      return Fail("Cannot roll back to a version that is deleted or destroyed, or does not exist: " +
                  a.Get("version"));
    const Json& tm = target->body["data"]["metadata"];
    if (tm.value("destroyed", false) || (tm.contains("deletion_time") && tm["deletion_time"].is_string() &&
                                         !tm["deletion_time"].get<std::string>().empty()))
      return Fail("Cannot roll back to a version that is deleted or destroyed: " + a.Get("version"));
    auto r = Call(c, "PUT", p, Json{{"data", target->body["data"]["data"]}, {"options", {{"cas", current}}}});
    if (!r.ok()) return Fail(r.status().message());
    if (r->status >= 300) return ApiError("writing data to " + p, *r);
    return Output(c, r->body, r->body["data"]);
  }
  if (sub == "metadata") {
    if (!m->v2) return Fail("metadata is only available on KV v2 mounts");
    std::string p = api_path("metadata");
    if (meta_sub == "get") {
      auto r = Call(c, "GET", p);
      if (!r.ok()) return Fail(r.status().message());
      if (r->status == 404) {
        std::cerr << "No value found at " << p << "\n";
        return 2;
      }
      if (r->status != 200) return ApiError("reading " + p, *r);
      return Output(c, r->body, r->body["data"]);
    }
    if (meta_sub == "delete") {
      auto r = Call(c, "DELETE", p);
      if (!r.ok()) return Fail(r.status().message());
      if (r->status >= 300) return ApiError("deleting " + p, *r);
      std::cout << "Success! Data deleted (if it existed) at: " << p << "\n";
      return 0;
    }
    if (meta_sub == "put") {
      Json body = Json::object();
      if (a.Has("max-versions")) body["max_versions"] = std::stoll(a.Get("max-versions"));
      if (a.Has("cas-required")) body["cas_required"] = ParseBoolString(a.Get("cas-required")).value_or(false);
      if (a.Has("delete-version-after")) body["delete_version_after"] = a.Get("delete-version-after");
      auto r = Call(c, "PUT", p, body);
      if (!r.ok()) return Fail(r.status().message());
      if (r->status >= 300) return ApiError("writing " + p, *r);
      std::cout << "Success! Data written to: " << p << "\n";
      return 0;
    }
    return Fail("unknown kv metadata subcommand " + meta_sub);
  }
  return Fail("unknown kv subcommand " + sub);
}

int Token(const Ctx& c, const Args& a) {
  if (a.pos.empty()) return Fail("usage: sealbox token <create|lookup|renew|revoke|capabilities>");
  const std::string& sub = a.pos[0];
  if (sub == "create") {
    Json body = Json::object();
    if (a.Has("policy")) body["policies"] = JsonToStringList(Json(a.Get("policy"))).value();
    if (a.Has("ttl")) body["ttl"] = a.Get("ttl");
    if (a.Has("explicit-max-ttl")) body["explicit_max_ttl"] = a.Get("explicit-max-ttl");
    if (a.Has("period")) body["period"] = a.Get("period");
    if (a.Has("display-name")) body["display_name"] = a.Get("display-name");
    if (a.Has("use-limit")) body["num_uses"] = std::stoll(a.Get("use-limit"));
    if (a.Has("type")) body["type"] = a.Get("type");
    if (a.Has("no-default-policy")) body["no_default_policy"] = true;
    if (a.Has("renewable")) body["renewable"] = ParseBoolString(a.Get("renewable")).value_or(true);
    std::string path = a.Has("orphan") ? "auth/token/create-orphan" : "auth/token/create";
    auto r = Call(c, "POST", path, body);
    if (!r.ok()) return Fail(r.status().message());
    if (r->status != 200) return ApiError("creating token", *r);
    return Output(c, r->body, Json::object());
  }
  if (sub == "lookup") {
    Result<Reply> r = a.pos.size() > 1 ? Call(c, "POST", "auth/token/lookup", Json{{"token", a.pos[1]}})
                                       : Call(c, "GET", "auth/token/lookup-self");
    if (!r.ok()) return Fail(r.status().message());
    if (r->status != 200) return ApiError("looking up token", *r);
    return Output(c, r->body, r->body["data"]);
  }
  if (sub == "renew") {
    Json body = Json::object();
    if (a.Has("increment")) body["increment"] = a.Get("increment");
    Result<Reply> r = Internal();
    if (a.pos.size() > 1) {
      body["token"] = a.pos[1];
      r = Call(c, "POST", "auth/token/renew", body);
    } else {
      r = Call(c, "POST", "auth/token/renew-self", body);
    }
    if (!r.ok()) return Fail(r.status().message());
    if (r->status != 200) return ApiError("renewing token", *r);
    return Output(c, r->body, Json::object());
  }
  if (sub == "revoke") {
    Result<Reply> r = Internal();
    if (a.Has("self") || a.pos.size() < 2) r = Call(c, "POST", "auth/token/revoke-self");
    else if (a.Has("accessor")) r = Call(c, "POST", "auth/token/revoke-accessor", Json{{"accessor", a.pos[1]}});
    else r = Call(c, "POST", "auth/token/revoke", Json{{"token", a.pos[1]}});
    if (!r.ok()) return Fail(r.status().message());
    if (r->status >= 300) return ApiError("revoking token", *r);
    std::cout << "Success! Revoked token (if it existed)\n";
    return 0;
  }
  if (sub == "capabilities") {
    if (a.pos.size() < 2) return Fail("usage: sealbox token capabilities [TOKEN] PATH");
    Result<Reply> r = a.pos.size() > 2
                          ? Call(c, "POST", "sys/capabilities", Json{{"token", a.pos[1]}, {"paths", {a.pos[2]}}})
                          : Call(c, "POST", "sys/capabilities-self", Json{{"paths", {a.pos[1]}}});
    if (!r.ok()) return Fail(r.status().message());
    if (r->status != 200) return ApiError("checking capabilities", *r);
    const Json& caps = r->body["data"]["capabilities"];
    std::string out;
    for (const auto& x : caps) out += (out.empty() ? "" : ", ") + x.get<std::string>();
    std::cout << out << "\n";
    return 0;
  }
  return Fail("unknown token subcommand " + sub);
}

int Lease(const Ctx& c, const Args& a) {
  if (a.pos.empty()) return Fail("usage: sealbox lease <lookup|renew|revoke> [flags] LEASE_ID");
  const std::string& sub = a.pos[0];
  // `-prefix` is a bool in vault; our flag parser may have taken the id as its value.
  std::string id = a.pos.size() > 1 ? a.pos[1] : "";
  const bool prefix = a.Has("prefix") && a.Get("prefix") != "false";
  if (id.empty() && prefix && a.Get("prefix") != "true") id = a.Get("prefix");
  if (id.empty()) return Fail("usage: sealbox lease " + sub + " LEASE_ID");
  if (sub == "lookup") {
    auto r = Call(c, "PUT", "sys/leases/lookup", Json{{"lease_id", id}});
    if (!r.ok()) return Fail(r.status().message());
    if (r->status != 200) return ApiError("looking up lease", *r);
    return Output(c, r->body, r->body["data"]);
  }
  if (sub == "renew") {
    Json body = {{"lease_id", id}};
    if (a.Has("increment")) body["increment"] = a.Get("increment");
    auto r = Call(c, "PUT", "sys/leases/renew", body);
    if (!r.ok()) return Fail(r.status().message());
    if (r->status != 200) return ApiError("renewing lease", *r);
    Json shown = {{"lease_id", r->body.value("lease_id", id)},
                  {"lease_duration", r->body.value("lease_duration", int64_t{0})},
                  {"lease_renewable", r->body.value("renewable", false)}};
    if (!c.field.empty() || c.format != "table") return Output(c, r->body, shown);
    Table({{"lease_id", shown["lease_id"].get<std::string>()},
           {"lease_duration", std::to_string(shown["lease_duration"].get<int64_t>()) + "s"},
           {"lease_renewable", shown["lease_renewable"].get<bool>() ? "true" : "false"}});
    return 0;
  }
  if (sub == "revoke") {
    Result<Reply> r = Internal();
    if (a.Has("force")) r = Call(c, "PUT", "sys/leases/revoke-force/" + id, Json::object());
    else if (prefix) r = Call(c, "PUT", "sys/leases/revoke-prefix/" + id, Json::object());
    else r = Call(c, "PUT", "sys/leases/revoke", Json{{"lease_id", id}});
    if (!r.ok()) return Fail(r.status().message());
    if (r->status >= 300) return ApiError("revoking lease", *r);
    if (prefix || a.Has("force")) std::cout << "Success! Revoked any leases with prefix: " << id << "\n";
    else std::cout << "Success! Revoked lease: " << id << "\n";
    return 0;
  }
  return Fail("unknown lease subcommand " + sub);
}

int Login(const Ctx& c0, const Args& a) {
  Ctx c = c0;
  std::string tok = a.pos.empty() ? "" : a.pos[0];
  if (tok.empty() || tok == "-") std::getline(std::cin, tok);
  c.token = tok;
  auto r = Call(c, "GET", "auth/token/lookup-self");
  if (!r.ok()) return Fail(r.status().message());
  if (r->status != 200) return ApiError("authenticating", *r);
  std::string path = HomeTokenPath();
  {
    std::ofstream out(path, std::ios::trunc);
    out << r->body["data"].value("id", tok);
  }
  ::chmod(path.c_str(), 0600);
  std::cout << "Success! You are now authenticated. The token information displayed below\nis already stored in the "
               "token helper. You do NOT need to run \"sealbox login\"\nagain. Future requests will automatically use "
               "this token.\n\n";
  const Json& d = r->body["data"];
  Table({{"token", d.value("id", "")},
         {"token_accessor", d.value("accessor", "")},
         {"token_duration", d.value("ttl", 0) == 0 ? "∞" : std::to_string(d.value("ttl", 0)) + "s"},
         {"token_renewable", d.value("renewable", false) ? "true" : "false"},
         {"token_policies", Scalar(d.value("policies", Json::array()))}});
  return 0;
}

// Canonical HCL for a parsed policy document: one block per path, keys in
// order, two-space indent; nested maps as `key = { ... }`.
void WriteHclValue(const Json& v, int indent, std::ostream& out) {
  if (!v.is_object()) {
    out << v.dump();
    return;
  }
  out << "{\n";
  for (auto& [k, x] : v.items()) {
    out << std::string(indent + 2, ' ') << Json(k).dump() << " = ";
    WriteHclValue(x, indent + 2, out);
    out << "\n";
  }
  out << std::string(indent, ' ') << "}";
}

// `policy fmt FILE`: rewrites a policy file in canonical HCL, in place.
int PolicyFmt(const std::string& file) {
  std::stringstream ss;
  {
    std::ifstream in(file);
    if (!in) return Fail("cannot read " + file);
    ss << in.rdbuf();
  }
  auto doc = hcl::Parse(ss.str());
  if (!doc.ok()) return Fail("failed to parse policy: " + doc.status().message());
  std::ostringstream out;
  bool first = true;
  for (auto& [key, val] : doc->items()) {
    if (key != "path") return Fail("failed to parse policy: invalid key \"" + key + "\"");
    // HCL may give the blocks as one object or as a list of objects.
    std::vector<std::pair<std::string, Json>> blocks;
    for (const Json& group : val.is_array() ? val : Json::array({val}))
      for (auto& [path, body] : group.items())
        for (const Json& b : body.is_array() ? body : Json::array({body})) blocks.emplace_back(path, b);
    for (auto& [path, body] : blocks) {
      if (!first) out << "\n";
      first = false;
      out << "path " << Json(path).dump() << " {\n";
      for (auto& [k, v] : body.items()) {
        out << "  " << k << " = ";
        WriteHclValue(v, 2, out);
        out << "\n";
      }
      out << "}\n";
    }
  }
  std::ofstream o(file, std::ios::trunc);
  if (!(o << out.str())) return Fail("cannot write " + file);
  std::cout << "Success! Formatted policy: " << file << "\n";
  return 0;
}

int Policy(const Ctx& c, const Args& a) {
  if (a.pos.empty()) return Fail("usage: sealbox policy <write|read|list|delete> ...");
  const std::string& sub = a.pos[0];
  if (sub == "list") {
    auto r = Call(c, "LIST", "sys/policies/acl");
    if (!r.ok()) return Fail(r.status().message());
    if (r->status != 200) return ApiError("listing policies", *r);
    for (const auto& k : r->body["data"]["keys"]) std::cout << k.get<std::string>() << "\n";
    return 0;
  }
  if (a.pos.size() < 2) return Fail("usage: sealbox policy " + sub + " NAME");
  if (sub == "fmt") return PolicyFmt(a.pos[1]);
  const std::string& name = a.pos[1];
  if (sub == "read") {
    auto r = Call(c, "GET", "sys/policies/acl/" + name);
    if (!r.ok()) return Fail(r.status().message());
    if (r->status == 404) return Fail("No policy named: " + name);
    if (r->status != 200) return ApiError("reading policy", *r);
    if (c.format == "json") std::cout << r->body.dump(2) << "\n";
    else std::cout << r->body["data"].value("policy", "") << "\n";
    return 0;
  }
  if (sub == "delete") {
    auto r = Call(c, "DELETE", "sys/policies/acl/" + name);
    if (!r.ok()) return Fail(r.status().message());
    if (r->status >= 300) return ApiError("deleting " + name, *r);
    std::cout << "Success! Deleted policy: " << name << "\n";
    return 0;
  }
  if (sub == "write") {
    if (a.pos.size() < 3) return Fail("usage: sealbox policy write NAME FILE|-");
    std::stringstream ss;
    if (a.pos[2] == "-") {
      ss << std::cin.rdbuf();
    } else {
      std::ifstream in(a.pos[2]);
      if (!in) return Fail("cannot read " + a.pos[2]);
      ss << in.rdbuf();
    }
    auto r = Call(c, "PUT", "sys/policies/acl/" + name, Json{{"policy", ss.str()}});
    if (!r.ok()) return Fail(r.status().message());
    if (r->status >= 300) return ApiError("uploading policy", *r);
    std::cout << "Success! Uploaded policy: " << name << "\n";
    return 0;
  }
  return Fail("unknown policy subcommand " + sub);
}

// secrets / auth / audit: enable, disable, list (and secrets move).
int Mounts(const Ctx& c, const std::string& group, const Args& a) {
  if (a.pos.empty()) return Fail("usage: sealbox " + group + " <enable|disable|list> ...");
  const std::string& sub = a.pos[0];
  std::string base = group == "secrets" ? "sys/mounts" : group == "auth" ? "sys/auth" : "sys/audit";
  if (sub == "list") {
    auto r = Call(c, "GET", base);
    if (!r.ok()) return Fail(r.status().message());
    if (r->status != 200) return ApiError("listing " + group, *r);
    if (c.format != "table") return Output(c, r->body, r->body["data"]);
    std::vector<std::vector<std::string>> rows;
    for (auto& [p, info] : r->body["data"].items())
      rows.push_back({p, info.value("type", ""), info.value("accessor", ""), info.value("description", "")});
    Columns({"Path", "Type", "Accessor", "Description"}, rows);
    return 0;
  }
  if (sub == "enable") {
    if (a.pos.size() < 2) return Fail("usage: sealbox " + group + " enable [-path=P] TYPE");
    std::string type = a.pos[1];
    std::string path = a.Get("path", type);
    Json body = {{"type", type}, {"description", a.Get("description")}};
    if (group == "audit") {
      auto opts = KvArgs(std::vector<std::string>(a.pos.begin() + 2, a.pos.end()));
      if (!opts.ok()) return Fail(opts.status().message());
      body["options"] = *opts;
    } else if (a.Has("version")) {
      body["options"] = {{"version", a.Get("version")}};
    }
    if (group == "secrets" && (a.Has("default-lease-ttl") || a.Has("max-lease-ttl")))
      body["config"] = {{"default_lease_ttl", a.Get("default-lease-ttl")}, {"max_lease_ttl", a.Get("max-lease-ttl")}};
    auto r = Call(c, "POST", base + "/" + path, body);
    if (!r.ok()) return Fail(r.status().message());
    if (r->status >= 300) return ApiError("enabling", *r);
    std::cout << "Success! Enabled " << (group == "auth" ? "the " + type + " auth method" : "the " + type + " " +
                                                                                             (group == "audit" ? "audit device" : "secrets engine"))
              << " at: " << path << "/\n";
    return 0;
  }
  if (sub == "disable") {
    if (a.pos.size() < 2) return Fail("usage: sealbox " + group + " disable PATH");
    auto r = Call(c, "DELETE", base + "/" + a.pos[1]);
    if (!r.ok()) return Fail(r.status().message());
    if (r->status >= 300) return ApiError("disabling", *r);
    std::cout << "Success! Disabled " << (group == "secrets" ? "the secrets engine" : group == "auth" ? "the auth method" : "the audit device")
              << " (if it existed) at: " << a.pos[1] << "\n";
    return 0;
  }
  if (sub == "tune" && group != "audit") {
    if (a.pos.size() < 2) return Fail("usage: sealbox " + group + " tune [flags] PATH");
    std::string path = a.pos[1];
    while (!path.empty() && path.back() == '/') path.pop_back();
    Json body = Json::object();
    if (a.Has("default-lease-ttl")) body["default_lease_ttl"] = a.Get("default-lease-ttl");
    if (a.Has("max-lease-ttl")) body["max_lease_ttl"] = a.Get("max-lease-ttl");
    if (a.Has("description")) body["description"] = a.Get("description");
    if (a.Has("options")) {
      auto opts = KvArgs({a.Get("options")});
      if (!opts.ok()) return Fail(opts.status().message());
      body["options"] = *opts;
    }
    auto r = Call(c, "POST", base + "/" + path + "/tune", body);
    if (!r.ok()) return Fail(r.status().message());
    if (r->status >= 300) return ApiError("tuning mount " + path, *r);
    std::cout << "Success! Tuned the " << (group == "secrets" ? "secrets engine" : "auth method") << " at: " << path
              << "/\n";
    return 0;
  }
  if (sub == "move" && group == "secrets") {
    if (a.pos.size() < 3) return Fail("usage: sealbox secrets move FROM TO");
    auto r = Call(c, "POST", "sys/remount", Json{{"from", a.pos[1]}, {"to", a.pos[2]}});
    if (!r.ok()) return Fail(r.status().message());
    if (r->status >= 300) return ApiError("moving mount", *r);
    std::cout << "Success! Finished moving secrets engine " << a.pos[1] << " to " << a.pos[2] << "\n";
    return 0;
  }
  return Fail("unknown " + group + " subcommand " + sub);
}

void Usage() {
  std::cerr << "Usage: sealbox <command> [args]\n\n"
               "Common commands:\n"
               "    server      Start a Sealbox server\n"
               "    status      Print seal and HA status (exit 2 when sealed)\n"
               "    operator    init | unseal | seal | step-down | rotate | key-status\n"
               "    login       Authenticate with a token (stored in ~/.vault-token)\n"
               "    read, write, list, delete, patch   Generic API calls\n"
               "    kv          get | put | patch | list | delete | undelete | destroy | rollback | metadata\n"
               "    token       create | lookup | renew | revoke | capabilities\n"
               "    lease       lookup | renew | revoke\n"
               "    policy      write | read | list | delete\n"
               "    secrets     enable | disable | list | move\n"
               "    auth        enable | disable | list\n"
               "    audit       enable | disable | list | verify\n"
               "    version     Print the version\n";
}

}  // namespace

void SetHttpClient(std::shared_ptr<HttpClient> client) { Client() = std::move(client); }

int Run(int argc, char** argv) {
  if (argc < 2) {
    Usage();
    return 2;
  }
  std::string cmd = argv[1];
  Args a = Parse(argc, argv, 2);
  Ctx c = MakeCtx(a);
  if (c.format != "table" && c.format != "json" && c.format != "yaml") return Fail("invalid format " + c.format);
  if (cmd == "status") return Status(c, a);
  if (cmd == "operator") return Operator(c, a);
  if (cmd == "login") return Login(c, a);
  if (cmd == "read" || cmd == "write" || cmd == "list" || cmd == "delete" || cmd == "patch") return Generic(c, cmd, a);
  if (cmd == "kv") return Kv(c, a);
  if (cmd == "token") return Token(c, a);
  if (cmd == "lease") return Lease(c, a);
  if (cmd == "policy") return Policy(c, a);
  if (cmd == "secrets" || cmd == "auth" || cmd == "audit") return Mounts(c, cmd, a);
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    Usage();
    return 0;
  }
  std::cerr << "Unknown command: " << cmd << "\n";
  Usage();
  return 1;
}

}  // namespace sealbox::cli
