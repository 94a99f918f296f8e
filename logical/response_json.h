// A Response as Vault's JSON envelope, and back.
//
// api/ renders envelopes from Responses; response wrapping stores a response
// in a cubbyhole as the envelope Vault would have sent (so `read
// cubbyhole/response` with the wrapping token shows what Vault shows) and
// reads it back at unwrap. Pure functions.
#pragma once

#include "base/status.h"
#include "logical/request.h"

namespace sealbox::logical {

// The "auth" block of an envelope.
Json AuthToJson(const Auth& a);

// The envelope of `resp` as its first caller would have received it, with an
// empty request_id (the unwrap's own id replaces it). Internal data (a lease's
// revocation data, an auth's renewal data) is never included.
Json StoredEnvelope(const Response& resp);

// The Response an envelope made by StoredEnvelope describes, marked replayed.
Result<Response> ResponseFromEnvelope(const Json& env);

}  // namespace sealbox::logical
