#include "cli/client.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace sealbox::cli {
namespace {

std::shared_ptr<HttpClient>& TheClient() {
  static std::shared_ptr<HttpClient> c;
  return c;
}

std::string TrimSpace(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

// Environment settings Sealbox cannot honour: refusing them is safer than
// sending a request the user did not mean (e.g. a secret unwrapped).
Status CheckEnvironment() {
  static const std::pair<const char*, const char*> kRefused[] = {
      {"CLIENT_CERT", "TLS client certificates are not supported"},
      {"CLIENT_KEY", "TLS client certificates are not supported"},
      {"AGENT_ADDR", "Sealbox has no agent"},
      {"MFA", "MFA is not supported"},
  };
  for (const auto& [name, why] : kRefused)
    if (!Env(name).empty()) return InvalidArgument(std::string("VAULT_") + name + " is set, but " + why);
  return Status::Ok();
}

Status CheckNamespace(const std::string& ns, const std::string& source) {
  if (ns.empty() || ns == "root" || ns == "root/") return Status::Ok();
  return InvalidArgument(source + " \"" + ns + "\": namespaces are not supported (only the root namespace exists)");
}

}  // namespace

void SetClient(std::shared_ptr<HttpClient> client) { TheClient() = std::move(client); }

std::string Env(const std::string& name) {
  for (const char* prefix : {"SEALBOX_", "VAULT_"})
    if (const char* v = std::getenv((std::string(prefix) + name).c_str()); v && *v) return v;
  return "";
}

std::string TokenHelperPath() {
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.vault-token";
}

std::vector<FlagSpec> HttpFlagSpecs() {
  using T = FlagType;
  return {
      {"address", T::kString, "Address of the server (VAULT_ADDR).", ""},
      {"ca-cert", T::kString, "PEM CA file to verify the server's certificate (VAULT_CACERT).", ""},
      {"ca-path", T::kString, "Directory of PEM CA files (VAULT_CAPATH).", ""},
      {"tls-server-name", T::kString, "Name to use as the SNI host and to verify (VAULT_TLS_SERVER_NAME).", ""},
      {"tls-skip-verify", T::kBool, "Do not verify the server's certificate (VAULT_SKIP_VERIFY). Discouraged.", ""},
      {"namespace", T::kString, "Namespace: only the root namespace (\"\" or \"root\") exists.", ""},
      {"ns", T::kString, "Alias of -namespace.", ""},
      {"disable-redirects", T::kBool, "Do not follow redirects (Sealbox never redirects).", ""},
      {"non-interactive", T::kBool, "Never prompt; fail where input would be asked for.", ""},
      {"agent-address", T::kString, "", "", "Sealbox has no agent"},
      {"client-cert", T::kString, "", "", "TLS client certificates are not supported"},
      {"client-key", T::kString, "", "", "TLS client certificates are not supported"},
      {"header", T::kStrings, "", "", "extra request headers are not supported"},
      {"wrap-ttl", T::kString, "Wrap the response in a single-use token living this long (VAULT_WRAP_TTL).", ""},
      {"policy-override", T::kBool, "", "", "Sentinel policies do not exist in Sealbox"},
      {"mfa", T::kStrings, "", "", "MFA is not supported"},
      {"output-curl-string", T::kBool, "", "", "printing the request as curl is not supported"},
      {"output-policy", T::kBool, "", "", "printing the required policy is not supported"},
      {"unlock-key", T::kString, "", "", "namespace API locks are not supported"},
  };
}

Result<Connection> ConnectionFrom(const FlagValues& f) {
  SB_RETURN_IF_ERROR(CheckEnvironment());
  SB_RETURN_IF_ERROR(CheckNamespace(Env("NAMESPACE"), "VAULT_NAMESPACE"));
  for (const char* name : {"namespace", "ns"}) SB_RETURN_IF_ERROR(CheckNamespace(f.String(name), std::string("-") + name));
  Connection c;
  c.addr = f.Has("address") ? f.String("address") : Env("ADDR");
  if (c.addr.empty()) c.addr = "https://127.0.0.1:8200";
  while (!c.addr.empty() && c.addr.back() == '/') c.addr.pop_back();
  c.token = TrimSpace(Env("TOKEN"));
  if (c.token.empty()) {
    std::ifstream in(TokenHelperPath());
    std::getline(in, c.token);
    c.token = TrimSpace(c.token);
  }
  c.wrap_ttl = f.Has("wrap-ttl") ? f.String("wrap-ttl") : Env("WRAP_TTL");
  c.tls.ca_file = f.Has("ca-cert") ? f.String("ca-cert") : Env("CACERT");
  c.tls.ca_path = f.Has("ca-path") ? f.String("ca-path") : Env("CAPATH");
  c.tls.server_name = f.Has("tls-server-name") ? f.String("tls-server-name") : Env("TLS_SERVER_NAME");
  c.tls.insecure_skip_verify =
      f.Has("tls-skip-verify") ? f.Bool("tls-skip-verify") : ParseBoolString(Env("SKIP_VERIFY")).value_or(false);
  return c;
}

Result<Reply> Call(const Connection& c, const std::string& method, const std::string& path, const Json& body) {
  if (!TheClient()) return Internal("no HTTP client");
  HttpClientRequest r;
  r.method = method;
  r.url = c.addr + "/v1/" + path;
  r.tls = c.tls;
  r.timeout_ms = c.timeout_ms;
  r.headers = {{"X-Vault-Request", "true"}};
  if (!c.token.empty()) r.headers.emplace_back("X-Vault-Token", c.token);
  if (!c.wrap_ttl.empty()) r.headers.emplace_back("X-Vault-Wrap-TTL", c.wrap_ttl);
  if (!body.is_null()) {
    r.body = DumpJson(body);
    r.headers.emplace_back("Content-Type", method == "PATCH" ? "application/merge-patch+json" : "application/json");
  }
  auto resp = TheClient()->Do(r);
  if (!resp.ok()) return resp.status();
  Reply out;
  out.status = resp->status;
  out.url = r.url;
  out.method = method;
  if (!resp->body.empty()) out.body = Json::parse(resp->body, nullptr, false);
  if (out.body.is_discarded()) out.body = nullptr;
  return out;
}

int ApiError(const std::string& what, const Reply& r) {
  std::ostringstream o;
  o << "Error " << what << ": Error making API request.\n\nURL: " << r.method << " " << r.url << "\nCode: " << r.status
    << ". Errors:\n\n";
  if (r.body.is_object() && r.body.contains("errors") && r.body["errors"].is_array())
    for (const auto& e : r.body["errors"]) o << "* " << (e.is_string() ? e.get<std::string>() : e.dump()) << "\n";
  std::cerr << o.str();
  return kExitError;
}

int Fail(const std::string& what, const Status& s, int code) {
  std::cerr << "Error " << what << ": " << s.message() << "\n";
  return code;
}

int Fail(const std::string& message, int code) {
  std::cerr << message << "\n";
  return code;
}

}  // namespace sealbox::cli
