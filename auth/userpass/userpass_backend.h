// userpass auth method (Vault's "userpass"): people log in with a username
// and a password.
//
// Storage (the mount's view, under the barrier): user/<lowercased name> =
// {"password_hash": <Argon2id PHC string>, token_* fields}. No password is
// stored, logged or returned; an unknown user costs a login what a wrong
// password costs, and both answer the same message.
// Thread-safety: handlers run concurrently; a user's writes are serialised
// by striped locks.
#pragma once

#include "logical/backend.h"

namespace sealbox::auth::userpass {

// Factory for mount type "userpass".
logical::BackendFactory Factory();

}  // namespace sealbox::auth::userpass
