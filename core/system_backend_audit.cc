// sys/audit (enable, disable, list), sys/audit-hash and, beyond Vault,
// sys/audit/<path>/chain-key for offline `sealbox audit verify`.
#include "core/core_impl.h"
#include "core/system_backend.h"
#include "core/system_backend_names.h"

namespace sealbox::core {

std::vector<PathSpec> SystemBackend::AuditRoutes() {
  std::vector<PathSpec> r;
  r.push_back({.pattern = "audit",
               .ops = {{Operation::kRead, [this](Request&, FieldData&) -> Result<Response> {
                 Response resp = Response::WithData(core_->audit().List());
                 resp.inject_top_level = true;
                 return resp;
               }}}});
  r.push_back({.pattern = "audit-hash/{path:+}",
               .fields = {{"path"}, {"input"}},
               .ops = {{Operation::kUpdate, [this](Request&, FieldData& f) -> Result<Response> {
                 SB_ASSIGN_OR_RETURN(std::string input, f.GetString("input"));
                 if (input.empty()) return InvalidArgument("the \"input\" parameter is empty");
                 SB_ASSIGN_OR_RETURN(std::string path, f.GetString("path"));
                 SB_ASSIGN_OR_RETURN(std::string hash, core_->audit().Hash(path, input));
                 Response resp = Response::WithData(Json{{"hash", hash}});
                 resp.inject_top_level = true;
                 return resp;
               }}}});
  r.push_back({.pattern = "audit/{path}/chain-key",
               .fields = {{"path"}},
               .ops = {{Operation::kRead, [this](Request&, FieldData& f) -> Result<Response> {
                 SB_ASSIGN_OR_RETURN(std::string path, f.GetString("path"));
                 SB_ASSIGN_OR_RETURN(std::string key, core_->audit().ChainKey(path));
                 return Response::WithData(Json{{"chain_key", key}});
               }}}});
  auto enable = [this](Request&, FieldData& f) -> Result<Response> {
    audit::DeviceConfig c;
    SB_ASSIGN_OR_RETURN(c.path, f.GetString("path"));
    SB_ASSIGN_OR_RETURN(c.type, f.GetString("type"));
    if (c.type.empty()) return InvalidArgument("type is required");
    SB_ASSIGN_OR_RETURN(c.description, f.GetString("description"));
    SB_ASSIGN_OR_RETURN(c.local, f.GetBool("local"));
    SB_ASSIGN_OR_RETURN(Json opts, f.GetMap("options"));
    c.options = Json::object();
    if (opts.is_object()) {
      // Options are strings on the wire and in the listing, as in Vault.
      for (auto& [k, v] : opts.items()) {
        SB_ASSIGN_OR_RETURN(std::string sv, JsonToString(v));
        c.options[k] = sv;
      }
    }
    SB_RETURN_IF_ERROR(core_->audit().Enable(std::move(c)));
    return Response::Empty();
  };
  r.push_back({.pattern = "audit/{path:+}",
               .fields = {{"path"}, {"type"}, {"description"}, {"options", FieldType::kMap},
                          {"local", FieldType::kBool}},
               .ops = {{Operation::kUpdate, enable},
                       {Operation::kDelete, [this](Request&, FieldData& f) -> Result<Response> {
                          SB_ASSIGN_OR_RETURN(std::string path, f.GetString("path"));
                          SB_RETURN_IF_ERROR(core_->audit().Disable(path));
                          return Response::Empty();
                        }}}});
  return r;
}

}  // namespace sealbox::core
