// sys/wrapping/{wrap,lookup,unwrap,rewrap} (Vault's response wrapping; the
// wrapping itself is core/response_wrapping.cc).
//
// lookup and unwrap are unauthenticated routes, as in Vault: the wrapping
// token is the credential, given as the request's token or as `token`. An
// unwrap of a `token` given in the body is the caller's own request, and
// its token must be allowed to update sys/wrapping/unwrap.
#include "core/core_impl.h"
#include "core/system_backend.h"
#include "core/system_backend_names.h"
#include "logical/response_json.h"

namespace sealbox::core {

namespace {

// The wrapping token of a request: `token` in the body, else the request's own.
Result<std::string> WrappingTokenOf(Request& req, FieldData& fd, bool* from_body) {
  SB_ASSIGN_OR_RETURN(std::string token, fd.GetString("token"));
  *from_body = !token.empty();
  return token.empty() ? req.client_token : token;
}

}  // namespace

Status SystemBackend::CallerMayUnwrap(const Request& req) {
  if (req.client_token.empty()) return PermissionDenied();
  SB_ASSIGN_OR_RETURN(auto caller, core_->tokens().Lookup(req.client_token));
  if (!caller) return PermissionDenied();
  SB_ASSIGN_OR_RETURN(auto acl, core_->AclForToken(*caller));
  // A caller known but not allowed: Vault's core wraps the refusal in its multierror.
  if (!acl->AllowOperation("sys/wrapping/unwrap", Operation::kUpdate, Json::object(), false).allowed)
    return PermissionDenied("1 error occurred:\n\t* permission denied\n\n");
  return Status::Ok();
}

std::vector<PathSpec> SystemBackend::WrappingRoutes() {
  const std::vector<FieldSpec> token_field = {{.name = "token"}};
  auto wrap = [](Request& req, FieldData&) -> Result<Response> {
    if (req.wrap_ttl <= 0) return InvalidArgument("endpoint requires response wrapping to be used");
    return Response::WithData(req.data);  // the pipeline wraps it
  };
  auto lookup = [this](Request& req, FieldData& fd) -> Result<Response> {
    bool from_body = false;
    SB_ASSIGN_OR_RETURN(std::string token, WrappingTokenOf(req, fd, &from_body));
    SB_ASSIGN_OR_RETURN(auto wrapped, core_->ReadWrapped(token, /*spend=*/false));
    return Response::WithData(std::move(wrapped.info));
  };
  auto unwrap = [this](Request& req, FieldData& fd) -> Result<Response> {
    bool from_body = false;
    SB_ASSIGN_OR_RETURN(std::string token, WrappingTokenOf(req, fd, &from_body));
    if (from_body) {
      // As Vault: a token that is no wrapping token is told so before the caller is checked.
      SB_RETURN_IF_ERROR(core_->ReadWrapped(token, /*spend=*/false).status());
      SB_RETURN_IF_ERROR(CallerMayUnwrap(req));
    }
    SB_ASSIGN_OR_RETURN(auto wrapped, core_->ReadWrapped(token, /*spend=*/true));
    return logical::ResponseFromEnvelope(wrapped.envelope);
  };
  auto rewrap = [this](Request& req, FieldData& fd) -> Result<Response> {
    bool from_body = false;
    SB_ASSIGN_OR_RETURN(std::string token, WrappingTokenOf(req, fd, &from_body));
    SB_ASSIGN_OR_RETURN(auto info, core_->Rewrap(token));
    Response r;
    r.wrap_info = std::move(info);
    return r;
  };
  std::vector<PathSpec> r;
  r.push_back({.pattern = "wrapping/wrap", .ops = {{Operation::kUpdate, wrap}}, .any_fields = true});
  r.push_back({.pattern = "wrapping/lookup",
               .fields = token_field,
               .ops = {{Operation::kUpdate, lookup}, {Operation::kRead, lookup}}});
  r.push_back({.pattern = "wrapping/unwrap", .fields = token_field, .ops = {{Operation::kUpdate, unwrap}}});
  r.push_back({.pattern = "wrapping/rewrap", .fields = token_field, .ops = {{Operation::kUpdate, rewrap}}});
  return r;
}

}  // namespace sealbox::core
