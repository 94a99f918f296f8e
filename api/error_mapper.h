// ErrorMapper: the one place that turns a Status code into an HTTP status and
// Vault's {"errors":[...]} body.
#pragma once

#include "api/http.h"
#include "base/status.h"

namespace sealbox::api {

int HttpStatusFor(StatusCode code);
// The client-facing body for a failed request. Internal, corruption and I/O
// errors never reveal their detail (it is logged instead).
HttpResponse ErrorFromStatus(const Status& s);
// Headers every response carries.
void AddStandardHeaders(HttpResponse& r, bool json);

}  // namespace sealbox::api
