// sys/policies/password (Vault's password policies): write, read, delete,
// list, and sys/policies/password/<name>/generate. The store and generator
// are in core/password_policy.h; policies live under the barrier at
// core/password_policy/<name>.
#include <openssl/crypto.h>

#include <cctype>

#include "base/crypto.h"
#include "core/core_impl.h"
#include "core/password_policy.h"
#include "core/system_backend.h"
#include "core/system_backend_names.h"

namespace sealbox::core {

namespace {

// As Vault does, a policy that decodes as standard base64 is taken decoded.
std::string MaybeBase64(const std::string& text) {
  for (char c : text) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=';
    if (!ok) return text;
  }
  if (text.empty() || text.size() % 4 != 0) return text;
  auto decoded = crypto::Base64Decode(text);
  if (!decoded.ok()) return text;
  return std::string(decoded->view());
}

Result<std::string> PolicyName(FieldData& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fd.GetString("name"));
  if (name.empty()) return InvalidArgument("missing policy name");
  return name;
}

}  // namespace

std::vector<PathSpec> SystemBackend::PasswordPolicyRoutes() {
  auto list = [this](Request&, FieldData&) -> Result<Response> {
    SB_ASSIGN_OR_RETURN(auto names, core_->password_policies().List());
    return Response::WithData(Json{{"keys", names}});
  };
  auto read = [this](Request&, FieldData& fd) -> Result<Response> {
    SB_ASSIGN_OR_RETURN(std::string name, PolicyName(fd));
    SB_ASSIGN_OR_RETURN(auto text, core_->password_policies().Get(name));
    if (!text) return Response::Empty();  // 404
    return Response::WithData(Json{{"policy", *text}});
  };
  auto write = [this](Request&, FieldData& fd) -> Result<Response> {
    SB_ASSIGN_OR_RETURN(std::string name, PolicyName(fd));
    SB_ASSIGN_OR_RETURN(std::string text, fd.GetString("policy"));
    if (text.empty()) return InvalidArgument("missing policy");
    text = MaybeBase64(text);
    Status s = core_->password_policies().Put(name, text);
    if (s.code() == StatusCode::kInvalidArgument) return InvalidArgument("invalid password policy: " + s.message());
    SB_RETURN_IF_ERROR(s);
    return Response::Empty();
  };
  auto remove = [this](Request&, FieldData& fd) -> Result<Response> {
    SB_ASSIGN_OR_RETURN(std::string name, PolicyName(fd));
    SB_RETURN_IF_ERROR(core_->password_policies().Delete(name));
    return Response::Empty();
  };
  auto generate = [this](Request&, FieldData& fd) -> Result<Response> {
    SB_ASSIGN_OR_RETURN(std::string name, PolicyName(fd));
    auto password = core_->password_policies().Generate(name);
    if (!password.ok()) {
      if (password.status().code() == StatusCode::kNotFound) return NotFound("policy does not exist");
      return password.status();
    }
    Response r = Response::WithData(Json{{"password", *password}});
    OPENSSL_cleanse(password->data(), password->size());
    return r;
  };

  const std::vector<FieldSpec> fields = {{"name", FieldType::kString}, {"policy", FieldType::kString}};
  std::vector<PathSpec> r;
  r.push_back({.pattern = "policies/password/", .ops = {{Operation::kList, list}}});
  r.push_back({.pattern = "policies/password", .ops = {{Operation::kList, list}}});
  r.push_back({.pattern = "policies/password/{name}/generate",
               .fields = {{"name", FieldType::kString}},
               .ops = {{Operation::kRead, generate}}});
  r.push_back({.pattern = "policies/password/{name}",
               .fields = fields,
               .ops = {{Operation::kRead, read},
                       {Operation::kUpdate, write},
                       {Operation::kDelete, remove}}});
  return r;
}

}  // namespace sealbox::core
