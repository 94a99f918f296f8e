// Vault's path help (`GET <path>?help=1`): which route a path matches and the
// parameters it takes, built from the route table (the routes are data).
// Sealbox keeps no prose per route, so the help names the route and its
// fields without Vault's synopsis and description.
#include <algorithm>

#include "logical/routed_backend.h"

namespace sealbox::logical {
namespace {

std::string_view TypeName(FieldType t) {
  switch (t) {
    case FieldType::kString: return "string";
    case FieldType::kInt: return "int";
    case FieldType::kBool: return "bool";
    case FieldType::kDuration: return "duration (sec)";
    case FieldType::kMap: return "map";
    case FieldType::kStringList: return "comma_string_slice";
    case FieldType::kAny: return "any";
  }
  return "string";
}

}  // namespace

std::string PatternRegex(std::string_view pattern) {
  std::string out = "^";
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] != '{') {
      out += pattern[i++];
      continue;
    }
    size_t close = pattern.find('}', i);
    if (close == std::string_view::npos) break;
    std::string_view inner = pattern.substr(i + 1, close - i - 1);
    size_t colon = inner.find(':');
    std::string_view name = inner.substr(0, colon);
    std::string_view kind = colon == std::string_view::npos ? "" : inner.substr(colon + 1);
    out += "(?P<" + std::string(name) + ">" + (kind == "*" ? ".*" : kind == "+" ? ".+" : "[^/]+") + ")";
    i = close + 1;
  }
  return out + "$";
}

Response HelpResponse(std::string_view path, const PathSpec* spec) {
  std::string help = "Request:        " + std::string(path) + "\nMatching Route: " +
                     (spec ? PatternRegex(spec->pattern) : std::string("<none>")) + "\n\n";
  if (spec && !spec->fields.empty()) {
    std::vector<const FieldSpec*> fields;
    for (const auto& f : spec->fields) fields.push_back(&f);
    std::sort(fields.begin(), fields.end(), [](const FieldSpec* a, const FieldSpec* b) { return a->name < b->name; });
    help += "## PARAMETERS\n\n";
    for (const FieldSpec* f : fields) help += "    " + f->name + " (" + std::string(TypeName(f->type)) + ")\n\n";
  }
  Response r;
  r.data = Json{{"help", help}, {"openapi", {{"openapi", "3.0.2"}, {"paths", Json::object()}}}, {"see_also", nullptr}};
  return r;
}

}  // namespace sealbox::logical
