#include "logical/routed_backend.h"

#include <algorithm>

namespace sealbox::logical {

std::string_view OperationName(Operation op) {
  switch (op) {
    case Operation::kRead: return "read";
    case Operation::kList: return "list";
    case Operation::kCreate: return "create";
    case Operation::kUpdate: return "update";
    case Operation::kPatch: return "patch";
    case Operation::kDelete: return "delete";
    case Operation::kRenew: return "renew";
    case Operation::kRevoke: return "revoke";
    case Operation::kHelp: return "help";
  }
  return "unknown";
}

bool MatchesSpecial(const std::vector<std::string>& patterns, std::string_view path) {
  for (const auto& p : patterns) {
    if (!p.empty() && p.back() == '*') {
      if (path.substr(0, p.size() - 1) == std::string_view(p).substr(0, p.size() - 1)) return true;
    } else if (path == p) {
      return true;
    }
  }
  return false;
}

bool MatchPattern(std::string_view pattern, std::string_view path, Json* captures) {
  size_t pi = 0, si = 0;
  while (pi < pattern.size()) {
    if (pattern[pi] == '{') {
      size_t close = pattern.find('}', pi);
      if (close == std::string_view::npos) return false;
      std::string_view spec = pattern.substr(pi + 1, close - pi - 1);
      size_t colon = spec.find(':');
      std::string name(spec.substr(0, colon));
      std::string_view kind = colon == std::string_view::npos ? "" : spec.substr(colon + 1);
      if (kind == "*" || kind == "+") {
        std::string_view rest = path.substr(si);
        if (kind == "+" && rest.empty()) return false;
        (*captures)[name] = std::string(rest);
        return close + 1 == pattern.size();
      }
      size_t end = path.find('/', si);
      if (end == std::string_view::npos) end = path.size();
      if (end == si) return false;
      (*captures)[name] = std::string(path.substr(si, end - si));
      si = end;
      pi = close + 1;
      continue;
    }
    if (si >= path.size() || path[si] != pattern[pi]) return false;
    ++si;
    ++pi;
  }
  return si == path.size();
}

const Json& FieldData::Get(const std::string& name) const {
  static const Json kNull = nullptr;
  auto it = raw_.find(name);
  if (it != raw_.end()) return *it;
  if (specs_) {
    for (const auto& f : *specs_)
      if (f.name == name) return f.default_value;
  }
  return kNull;
}

namespace {
Status FieldError(const std::string& name, const Status& s) {
  return InvalidArgument("error converting input for field \"" + name + "\": " + s.message());
}
}  // namespace

Result<std::string> FieldData::GetString(const std::string& name) const {
  auto r = JsonToString(Get(name));
  if (!r.ok()) return FieldError(name, r.status());
  return r;
}
Result<int64_t> FieldData::GetInt(const std::string& name) const {
  auto r = JsonToInt(Get(name));
  if (!r.ok()) return FieldError(name, r.status());
  return r;
}
Result<bool> FieldData::GetBool(const std::string& name) const {
  auto r = JsonToBool(Get(name));
  if (!r.ok()) return FieldError(name, r.status());
  return r;
}
Result<int64_t> FieldData::GetDuration(const std::string& name) const {
  auto r = JsonToDurationSeconds(Get(name));
  if (!r.ok()) return FieldError(name, r.status());
  return r;
}
Result<std::vector<std::string>> FieldData::GetStringList(const std::string& name) const {
  auto r = JsonToStringList(Get(name));
  if (!r.ok()) return FieldError(name, r.status());
  return r;
}
Result<Json> FieldData::GetMap(const std::string& name) const {
  const Json& v = Get(name);
  if (v.is_null() || v.is_object()) return v;
  if (v.is_string() && v.get_ref<const std::string&>().empty()) return Json(nullptr);
  return InvalidArgument("error converting input for field \"" + name + "\": expected a map");
}

const PathSpec* RoutedBackend::Match(const std::string& path, Json* captures) const {
  for (const auto& r : routes_) {
    *captures = Json::object();
    if (MatchPattern(r.pattern, path, captures)) return &r;
  }
  return nullptr;
}

RunMode RoutedBackend::RunModeFor(std::string_view path, Operation op) const {
  if (op == Operation::kHelp) return RunMode::kNonBlocking;  // the route table only
  for (const auto& r : routes_) {
    if (!r.run_mode) continue;  // only routes that say are matched
    Json captures = Json::object();
    if (MatchPattern(r.pattern, path, &captures)) return *r.run_mode;
  }
  return op == Operation::kRead || op == Operation::kList ? reads_ : writes_;
}

bool RoutedBackend::ServesOnStandby(std::string_view path, Operation op) const {
  Json captures;
  const PathSpec* spec = Match(std::string(path), &captures);
  if (!spec) return false;  // the active node answers "unsupported path"
  if (!spec->standby_ops.empty())
    return std::find(spec->standby_ops.begin(), spec->standby_ops.end(), op) != spec->standby_ops.end();
  return standby_reads_ && (op == Operation::kRead || op == Operation::kList);
}

Result<Response> RoutedBackend::HandleRequest(Request& req) {
  Json captures;
  const PathSpec* spec = Match(req.path, &captures);
  if (req.op == Operation::kHelp) return HelpResponse(req.path, spec);
  if (!spec) return NotFound("unsupported path");
  Operation op = req.op;
  auto it = spec->ops.find(op);
  // A backend that does not tell create from update handles both the same.
  if (it == spec->ops.end() && op == Operation::kCreate) it = spec->ops.find(Operation::kUpdate);
  if (it == spec->ops.end() && op == Operation::kUpdate) it = spec->ops.find(Operation::kCreate);
  if (it == spec->ops.end()) return Unsupported();

  Json raw = req.data.is_object() ? req.data : Json::object();
  std::vector<std::string> unknown;
  if (!spec->any_fields) {
    for (auto& [k, v] : raw.items()) {
      const std::string& key = k;  // clang 14 cannot capture structured bindings
      bool known = std::any_of(spec->fields.begin(), spec->fields.end(), [&](const FieldSpec& f) { return f.name == key; });
      if (!known) unknown.push_back(k);
    }
  }
  for (auto& [k, v] : captures.items()) raw[k] = v;  // captures win over the body
  FieldData fd(std::move(raw), &spec->fields);
  auto resp = it->second(req, fd);
  if (resp.ok() && !unknown.empty() && op != Operation::kRead && op != Operation::kList) {
    std::sort(unknown.begin(), unknown.end());
    std::string w = "Endpoint ignored these unrecognized parameters: [";
    for (size_t i = 0; i < unknown.size(); ++i) w += (i ? " " : "") + unknown[i];
    resp->warnings.push_back(w + "]");
  }
  return resp;
}

Result<std::optional<bool>> RoutedBackend::ExistenceCheck(Request& req) {
  Json captures;
  const PathSpec* spec = Match(req.path, &captures);
  if (!spec || !spec->exists) return std::optional<bool>();
  Json raw = req.data.is_object() ? req.data : Json::object();
  for (auto& [k, v] : captures.items()) raw[k] = v;
  FieldData fd(std::move(raw), &spec->fields);
  SB_ASSIGN_OR_RETURN(bool e, spec->exists(req, fd));
  return std::optional<bool>(e);
}

}  // namespace sealbox::logical
