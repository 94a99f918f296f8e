// Envelope: renders a logical::Response as Vault's JSON ("secret" envelope,
// auth block, 204/404 rules, top-level data injection).
#pragma once

#include "api/http.h"
#include "core/logical/request.h"

namespace sealbox::api {

Json AuthToJson(const logical::Auth& a);
HttpResponse RenderResponse(const logical::Request& req, const logical::Response& resp);

}  // namespace sealbox::api
