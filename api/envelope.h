// Envelope: renders a logical::Response as Vault's JSON ("secret" envelope,
// auth block, 204/404 rules, top-level data injection).
#pragma once

#include "api/http.h"
#include "logical/request.h"

namespace sealbox::api {

// Consumes `resp` (its data is moved into the body, not copied).
HttpResponse RenderResponse(const logical::Request& req, logical::Response&& resp);

}  // namespace sealbox::api
