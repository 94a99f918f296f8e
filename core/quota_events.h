// The "quota rejected" hook: one process-wide count per quota kind and an
// optional observer, so a metrics module can count refusals without core
// depending on it (nor it on core's quota types).
// Thread-safe; set the observer once, before serving.
#pragma once

#include <cstdint>
#include <string_view>

namespace sealbox::core {

enum class QuotaKind { kRateLimit, kLeaseCount };

using QuotaRejectionObserver = void (*)(QuotaKind kind, std::string_view quota_name);
void SetQuotaRejectionObserver(QuotaRejectionObserver fn);
// Requests refused by quotas of `kind` since the process started.
uint64_t QuotaRejections(QuotaKind kind);
// Called by the quota manager for each refusal.
void NoteQuotaRejection(QuotaKind kind, std::string_view quota_name);

}  // namespace sealbox::core
