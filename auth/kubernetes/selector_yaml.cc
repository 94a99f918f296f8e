#include "auth/kubernetes/selector_yaml.h"

#include <yaml-cpp/yaml.h>

namespace sealbox::auth::k8s {
namespace {

Result<Json> ToJson(const YAML::Node& n, int depth) {
  if (depth > 16) return InvalidArgument("selector nested too deeply");
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      Json o = Json::object();
      for (const auto& kv : n) {
        SB_ASSIGN_OR_RETURN(Json v, ToJson(kv.second, depth + 1));
        o[kv.first.as<std::string>()] = std::move(v);
      }
      return o;
    }
    case YAML::NodeType::Sequence: {
      Json a = Json::array();
      for (const auto& e : n) {
        SB_ASSIGN_OR_RETURN(Json v, ToJson(e, depth + 1));
        a.push_back(std::move(v));
      }
      return a;
    }
    case YAML::NodeType::Scalar:
      return Json(n.Scalar());  // label keys, values and operators are strings
    default:
      return Json(nullptr);
  }
}

}  // namespace

Result<Json> ParseLabelSelector(std::string_view text) {
  if (text.size() > 64 * 1024) return InvalidArgument("invalid \"bound_service_account_namespace_selector\"");
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_discarded()) {
    if (!j.is_object()) return InvalidArgument("invalid \"bound_service_account_namespace_selector\"");
    return j;
  }
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsMap()) return InvalidArgument("invalid \"bound_service_account_namespace_selector\"");
    return ToJson(root, 0);
  } catch (const std::exception&) {
    return InvalidArgument("invalid \"bound_service_account_namespace_selector\"");
  }
}

}  // namespace sealbox::auth::k8s
