// The identity/ mount: reads of the identity store (core/identity_store.h)
// as Vault's identity API answers them: identity/entity/id[/<id>] (LIST,
// read, delete) and identity/lookup/entity. Entities are made by logins.
#include "core/identity_backend.h"

namespace sealbox::core {

using logical::FieldData;
using logical::Operation;
using logical::Request;
using logical::Response;

namespace {

// LIST's key_info: each entity's name and aliases, as Vault lists them.
Json KeyInfo(const Json& entity) {
  Json aliases = Json::array();
  for (const auto& a : entity.value("aliases", Json::array())) {
    aliases.push_back({{"id", a.value("id", "")},
                       {"mount_accessor", a.value("mount_accessor", "")},
                       {"mount_path", a.value("mount_path", "")},
                       {"mount_type", a.value("mount_type", "")},
                       {"name", a.value("name", "")}});
  }
  return {{"aliases", aliases}, {"name", entity.value("name", "")}};
}

}  // namespace

IdentityBackend::IdentityBackend(IdentityStore* store) : store_(store) {
  auto read = [this](Request&, FieldData& f) -> Result<Response> {
    SB_ASSIGN_OR_RETURN(std::string id, f.GetString("id"));
    SB_ASSIGN_OR_RETURN(auto e, store_->Entity(id));
    if (!e) return Response::Empty();
    return Response::WithData(std::move(*e));
  };
  auto remove = [this](Request&, FieldData& f) -> Result<Response> {
    SB_ASSIGN_OR_RETURN(std::string id, f.GetString("id"));
    SB_RETURN_IF_ERROR(store_->Delete(id));
    return Response::Empty();
  };
  auto list = [this](Request&, FieldData&) -> Result<Response> {
    SB_ASSIGN_OR_RETURN(auto ids, store_->ListIds());
    Json info = Json::object();
    for (const auto& id : ids) {
      SB_ASSIGN_OR_RETURN(auto e, store_->Entity(id));
      if (e) info[id] = KeyInfo(*e);
    }
    return Response::WithData(Json{{"keys", ids}, {"key_info", info}});
  };
  auto lookup = [this](Request&, FieldData& f) -> Result<Response> {
    SB_ASSIGN_OR_RETURN(std::string id, f.GetString("id"));
    SB_ASSIGN_OR_RETURN(std::string name, f.GetString("name"));
    SB_ASSIGN_OR_RETURN(std::string alias_id, f.GetString("alias_id"));
    SB_ASSIGN_OR_RETURN(std::string alias_name, f.GetString("alias_name"));
    SB_ASSIGN_OR_RETURN(std::string alias_accessor, f.GetString("alias_mount_accessor"));
    const int given = !id.empty() + !name.empty() + !alias_id.empty() + !alias_name.empty();
    if (given == 0 && alias_accessor.empty()) return InvalidArgument("query parameter not supplied");
    if (given > 1) return InvalidArgument("query parameter conflict; please supply distinct set of query parameters");
    std::optional<Json> e;
    if (!id.empty()) {
      SB_ASSIGN_OR_RETURN(e, store_->Entity(id));
    } else if (!name.empty()) {
      SB_ASSIGN_OR_RETURN(e, store_->EntityByName(name));
    } else if (!alias_id.empty()) {
      SB_ASSIGN_OR_RETURN(e, store_->EntityByAliasId(alias_id));
    } else {
      if (alias_name.empty() || alias_accessor.empty())
        return InvalidArgument("both 'alias_name' and 'alias_mount_accessor' needs to be set");
      SB_ASSIGN_OR_RETURN(e, store_->EntityByAlias(alias_accessor, alias_name));
    }
    if (!e) return Response::Empty();
    return Response::WithData(std::move(*e));
  };
  SetRoutes({
      {.pattern = "entity/id/", .ops = {{Operation::kList, list}}},
      {.pattern = "entity/id/{id}",
       .fields = {{.name = "id"}},
       .ops = {{Operation::kRead, read}, {Operation::kDelete, remove}}},
      {.pattern = "lookup/entity",
       .fields = {{.name = "id"}, {.name = "name"}, {.name = "alias_id"}, {.name = "alias_name"},
                  {.name = "alias_mount_accessor"}},
       .ops = {{Operation::kUpdate, lookup}}},
  });
  SetRunModes(logical::RunMode::kNonBlocking, logical::RunMode::kWaits);
}

}  // namespace sealbox::core
