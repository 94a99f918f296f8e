#include "core/quota_events.h"

#include <atomic>

namespace sealbox::core {
namespace {

std::atomic<QuotaRejectionObserver> g_observer{nullptr};
std::atomic<uint64_t> g_rejections[2];

}  // namespace

void SetQuotaRejectionObserver(QuotaRejectionObserver fn) { g_observer.store(fn); }

uint64_t QuotaRejections(QuotaKind kind) { return g_rejections[static_cast<int>(kind)].load(); }

void NoteQuotaRejection(QuotaKind kind, std::string_view quota_name) {
  g_rejections[static_cast<int>(kind)].fetch_add(1, std::memory_order_relaxed);
  if (auto fn = g_observer.load(std::memory_order_acquire)) fn(kind, quota_name);
}

}  // namespace sealbox::core
