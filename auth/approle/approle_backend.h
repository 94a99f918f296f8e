// AppRole auth method (Vault's "approle"): machines log in with a role_id
// and, when the role binds one, a secret_id issued for that role.
//
// Storage (the mount's view, under the barrier): role/<name>, an index
// role_id/<salted hash> -> name, secret-ids as
// secret_id[_local]/<HMAC(role key, name)>/<HMAC(role key, secret-id)> and
// their accessors as accessor[_local]/<salted hash>. No secret-id is ever
// stored, logged or returned after its creation.
// Thread-safety: handlers run concurrently; a role's writes and a secret-id's
// use count are serialised by striped locks (the active node is the only
// writer).
#pragma once

#include "logical/backend.h"

namespace sealbox::auth::approle {

// Factory for mount type "approle".
logical::BackendFactory Factory();

}  // namespace sealbox::auth::approle
