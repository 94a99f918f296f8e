#include "cli/output.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <sstream>

namespace sealbox::cli {
namespace {

const Json& Member(const Json& obj, const char* key) {
  static const Json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

// Fields vault prints as durations in tables: ttl, *_ttl, period, *_period.
bool LooksLikeTtl(const std::string& key) {
  auto ends = [&](const std::string& suffix) {
    return key.size() >= suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return key == "ttl" || key == "period" || ends("_ttl") || ends("_period");
}

std::string TableValue(const std::string& key, const Json& v) {
  if (LooksLikeTtl(key) && v.is_number_integer()) return HumanDuration(v.get<int64_t>());
  return GoValue(v);
}

std::string YamlScalar(const Json& x) {
  if (x.is_string()) return x.dump();
  if (x.is_null()) return "null";
  if (x.is_object()) return "{}";
  if (x.is_array()) return "[]";
  return x.dump();
}

void Yaml(const Json& v, int indent, std::ostream& o) {
  const std::string pad(indent, ' ');
  if (v.is_object()) {
    for (auto& [k, x] : v.items()) {
      o << pad << k << ":";
      if ((x.is_object() || x.is_array()) && !x.empty()) {
        o << "\n";
        Yaml(x, indent + 2, o);
      } else {
        o << " " << YamlScalar(x) << "\n";
      }
    }
  } else if (v.is_array()) {
    for (const auto& x : v) {
      if ((x.is_object() || x.is_array()) && !x.empty()) {
        o << pad << "-\n";
        Yaml(x, indent + 2, o);
      } else {
        o << pad << "- " << YamlScalar(x) << "\n";
      }
    }
  } else {
    o << pad << YamlScalar(v) << "\n";
  }
}

// Words of `text` greedily filled into lines of at most `width` characters.
std::vector<std::string> Wrap(const std::string& text, size_t width) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string word, line;
  while (in >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

Json AuthJson(const Json& a) {
  auto get = [&](const char* k, Json def) {
    const Json& v = Member(a, k);
    return v.is_null() ? def : v;
  };
  return {{"client_token", get("client_token", "")},
          {"accessor", get("accessor", "")},
          {"policies", get("policies", nullptr)},
          {"token_policies", get("token_policies", nullptr)},
          {"identity_policies", get("identity_policies", nullptr)},
          {"metadata", get("metadata", nullptr)},
          {"orphan", get("orphan", false)},
          {"entity_id", get("entity_id", "")},
          {"lease_duration", get("lease_duration", 0)},
          {"renewable", get("renewable", false)},
          {"mfa_requirement", get("mfa_requirement", nullptr)}};
}

std::vector<std::pair<std::string, std::string>> LeaseRows(const Json& env) {
  const int64_t duration = Member(env, "lease_duration").is_number() ? env["lease_duration"].get<int64_t>() : 0;
  if (duration <= 0) return {};
  const std::string id = Member(env, "lease_id").is_string() ? env["lease_id"].get<std::string>() : "";
  if (id.empty()) return {{"refresh_interval", HumanDuration(duration)}};
  return {{"lease_id", id},
          {"lease_duration", HumanDuration(duration)},
          {"lease_renewable", Member(env, "renewable").is_boolean() && env["renewable"].get<bool>() ? "true" : "false"}};
}

std::vector<std::pair<std::string, std::string>> AuthRows(const Json& a) {
  if (!a.is_object()) return {};
  const int64_t duration = Member(a, "lease_duration").is_number() ? a["lease_duration"].get<int64_t>() : 0;
  std::vector<std::pair<std::string, std::string>> rows = {
      {"token", GoValue(Member(a, "client_token"))},
      {"token_accessor", GoValue(Member(a, "accessor"))},
      {"token_duration", duration == 0 ? "∞" : HumanDuration(duration)},
      {"token_renewable", Member(a, "renewable").is_boolean() && a["renewable"].get<bool>() ? "true" : "false"},
      {"token_policies", GoQuoted(Member(a, "token_policies"))},
      {"identity_policies", GoQuoted(Member(a, "identity_policies"))},
      {"policies", GoQuoted(Member(a, "policies"))}};
  if (Member(a, "metadata").is_object())
    for (auto& [k, v] : a["metadata"].items()) rows.push_back({"token_meta_" + k, GoValue(v)});
  return rows;
}

// RFC 3339 as Go prints a time.Time: "2026-12-07 05:30:19.93 +0000 UTC".
std::string GoTime(const Json& v) {
  if (!v.is_string()) return GoValue(v);
  std::string t = v.get<std::string>();
  if (t.size() < 20 || t.back() != 'Z' || t[10] != 'T') return t;
  t[10] = ' ';
  t.pop_back();
  return t + " +0000 UTC";
}

// A wrapped response's table: only where its payload waits, as vault prints it.
std::vector<std::pair<std::string, std::string>> WrapRows(const Json& w) {
  std::vector<std::pair<std::string, std::string>> rows = {
      {"wrapping_token:", GoValue(Member(w, "token"))},
      {"wrapping_accessor:", GoValue(Member(w, "accessor"))},
      {"wrapping_token_ttl:", HumanDuration(Member(w, "ttl").is_number() ? w["ttl"].get<int64_t>() : 0)},
      {"wrapping_token_creation_time:", GoTime(Member(w, "creation_time"))},
      {"wrapping_token_creation_path:", GoValue(Member(w, "creation_path"))}};
  const Json& wrapped = Member(w, "wrapped_accessor");
  if (wrapped.is_string() && !wrapped.get<std::string>().empty()) rows.push_back({"wrapped_accessor:", GoValue(wrapped)});
  return rows;
}

// The value -field names: wrap info, auth's table names, data, then the envelope.
const Json* FindField(const Json& env, const std::string& field) {
  static const std::map<std::string, std::string> kWrapNames = {
      {"wrapping_token", "token"},
      {"wrapping_accessor", "accessor"},
      {"wrapping_token_ttl", "ttl"},
      {"wrapping_token_creation_time", "creation_time"},
      {"wrapping_token_creation_path", "creation_path"},
      {"wrapped_accessor", "wrapped_accessor"}};
  const Json& wrap = Member(env, "wrap_info");
  if (wrap.is_object()) {
    auto it = kWrapNames.find(field);
    if (it != kWrapNames.end() && wrap.contains(it->second)) return &wrap[it->second];
  }
  static const std::map<std::string, std::string> kAuthNames = {
      {"token", "client_token"},          {"token_accessor", "accessor"},
      {"token_duration", "lease_duration"}, {"token_renewable", "renewable"},
      {"token_policies", "token_policies"}, {"identity_policies", "identity_policies"},
      {"policies", "policies"}};
  static const std::map<std::string, std::string> kEnvelopeNames = {
      {"refresh_interval", "lease_duration"}, {"lease_renewable", "renewable"}, {"lease_id", "lease_id"},
      {"lease_duration", "lease_duration"},   {"renewable", "renewable"},       {"request_id", "request_id"}};
  const Json& auth = Member(env, "auth");
  if (auth.is_object()) {
    auto it = kAuthNames.find(field);
    if (it != kAuthNames.end() && auth.contains(it->second)) return &auth[it->second];
  }
  const Json& data = Member(env, "data");
  if (data.is_object() && data.contains(field) && !data[field].is_null()) return &data[field];
  auto it = kEnvelopeNames.find(field);
  if (it != kEnvelopeNames.end() && env.is_object() && env.contains(it->second)) return &env[it->second];
  return nullptr;
}

}  // namespace

std::string HumanDuration(int64_t seconds) {
  if (seconds == 0) return "0s";
  const uint64_t s = seconds < 0 ? static_cast<uint64_t>(-seconds) : static_cast<uint64_t>(seconds);
  const uint64_t h = s / 3600, m = (s % 3600) / 60, sec = s % 60;
  // Go's Duration.String(), then vault's humanDuration trims.
  std::string out = seconds < 0 ? "-" : "";
  if (h > 0) out += std::to_string(h) + "h";
  if (h > 0 || m > 0) out += std::to_string(m) + "m";
  out += std::to_string(sec) + "s";
  if (out.size() > 3 && out.compare(out.size() - 3, 3, "m0s") == 0) out.resize(out.size() - 2);
  if (size_t i = out.find("h0m"); i != std::string::npos && i > 0) out.erase(i + 1, 2);
  return out;
}

std::string GoValue(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "<nil>";
  if (v.is_array()) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + GoValue(v[i]);
    return s + "]";
  }
  if (v.is_object()) {
    std::string s = "map[";
    bool first = true;
    for (auto& [k, x] : v.items()) {
      s += (first ? "" : " ") + k + ":" + GoValue(x);
      first = false;
    }
    return s + "]";
  }
  return v.dump();
}

std::string GoQuoted(const Json& list) {
  std::string s = "[";
  if (list.is_array())
    for (size_t i = 0; i < list.size(); ++i) s += (i ? " " : "") + Json(GoValue(list[i])).dump();
  return s + "]";
}

void PrintColumns(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::vector<std::string>> all;
  if (!header.empty()) {
    all.push_back(header);
    std::vector<std::string> dashes;
    for (const auto& h : header) dashes.push_back(std::string(h.size(), '-'));
    all.push_back(dashes);
  }
  size_t columns = header.size();
  for (auto r : rows) {
    for (auto& cell : r)
      if (cell.empty()) cell = "n/a";
    columns = std::max(columns, r.size());
    all.push_back(std::move(r));
  }
  std::vector<size_t> width(columns, 0);
  for (const auto& r : all)
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  for (const auto& r : all) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i)
      line += r[i] + (i + 1 < r.size() ? std::string(width[i] - r[i].size() + 4, ' ') : "");
    std::cout << line << "\n";
  }
}

void PrintKeyValues(const std::vector<std::pair<std::string, std::string>>& rows) {
  std::vector<std::vector<std::string>> r;
  for (const auto& [k, v] : rows) r.push_back({k, v});
  PrintColumns({"Key", "Value"}, r);
}

void PrintJson(const Json& v) { std::cout << v.dump(2, ' ', false, Json::error_handler_t::replace) << "\n"; }

void PrintYaml(const Json& v) { Yaml(v, 0, std::cout); }

void PrintWarnings(const Json& env) {
  const Json& w = Member(env, "warnings");
  if (!w.is_array() || w.empty()) return;
  std::cerr << "WARNING! The following warnings were returned from Sealbox:\n\n";
  for (const auto& x : w) {
    auto lines = Wrap("* " + GoValue(x), 76);
    for (const auto& l : lines) std::cerr << "  " << l << "\n";
    std::cerr << "\n";
  }
}

Json SecretJson(const Json& env) {
  auto get = [&](const char* k, Json def) {
    const Json& v = Member(env, k);
    return v.is_null() ? def : v;
  };
  Json out = {{"request_id", get("request_id", "")}, {"lease_id", get("lease_id", "")},
              {"lease_duration", get("lease_duration", 0)}, {"renewable", get("renewable", false)},
              {"data", get("data", nullptr)}, {"warnings", get("warnings", nullptr)}};
  if (!Member(env, "wrap_info").is_null()) {
    out["wrap_info"] = env["wrap_info"];
    if (!out["wrap_info"].contains("wrapped_accessor")) out["wrap_info"]["wrapped_accessor"] = "";  // as vault's
  }
  if (!Member(env, "auth").is_null()) out["auth"] = AuthJson(env["auth"]);
  return out;
}

void PrintDataTable(const Json& data) {
  std::vector<std::pair<std::string, std::string>> rows;
  if (data.is_object())
    for (auto& [k, v] : data.items()) rows.push_back({k, TableValue(k, v)});
  if (!rows.empty()) PrintKeyValues(rows);
}

int PrintField(const OutputOptions& out, const Json& env, const std::string& field) {
  const Json* v = FindField(env, field);
  if (!v) {
    std::cerr << "Field \"" << field << "\" not present in secret\n";
    return 1;
  }
  if (out.format == "json") {
    std::cout << v->dump(2, ' ', false, Json::error_handler_t::replace);
  } else if (out.format == "yaml") {
    Yaml(*v, 0, std::cout);
    return 0;
  } else {
    std::cout << GoValue(*v);
  }
  // As vault: no trailing newline when piped, so `$(sealbox read -field=x)` is exact.
  if (isatty(STDOUT_FILENO)) std::cout << "\n";
  return 0;
}

int PrintSecret(const OutputOptions& out, const Json& env) {
  if (!out.field.empty()) return PrintField(out, env, out.field);
  if (out.format == "json") {
    PrintJson(SecretJson(env));
    return 0;
  }
  if (out.format == "yaml") {
    PrintYaml(SecretJson(env));
    return 0;
  }
  PrintWarnings(env);
  if (Member(env, "wrap_info").is_object()) {
    PrintKeyValues(WrapRows(env["wrap_info"]));
    return 0;
  }
  auto rows = LeaseRows(env);
  for (auto& r : AuthRows(Member(env, "auth"))) rows.push_back(std::move(r));
  const Json& data = Member(env, "data");
  if (data.is_object())
    for (auto& [k, v] : data.items()) rows.push_back({k, TableValue(k, v)});
  if (!rows.empty()) PrintKeyValues(rows);
  return 0;
}

int PrintMap(const OutputOptions& out, const Json& data) {
  if (!out.field.empty()) return PrintField(out, Json{{"data", data}}, out.field);
  if (out.format == "json") PrintJson(data);
  else if (out.format == "yaml") PrintYaml(data);
  else PrintDataTable(data);
  return 0;
}

std::string PadEqualSigns(const std::string& header, size_t width) {
  long equals = static_cast<long>(width) - static_cast<long>(header.size() + 2);
  if (equals <= 0) equals = 4;
  if (equals % 2 != 0) ++equals;
  const std::string side(static_cast<size_t>(equals / 2), '=');
  return side + " " + header + " " + side;
}

}  // namespace sealbox::cli
