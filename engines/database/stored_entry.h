// Reading the engine's stored entries (configs, roles, lease data) into typed
// structs: a missing or null key keeps the struct's default; a value of the
// wrong type makes the whole entry Corruption, never an exception.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/json_util.h"
#include "base/status.h"

namespace sealbox::engines::database {

class EntryReader {
 public:
  explicit EntryReader(const Json& j) : j_(j) {}

  void Read(const char* key, std::string& out) {
    if (const Json* v = Find(key)) v->is_string() ? void(out = v->get<std::string>()) : Fail();
  }
  void Read(const char* key, bool& out) {
    if (const Json* v = Find(key)) v->is_boolean() ? void(out = v->get<bool>()) : Fail();
  }
  void Read(const char* key, int64_t& out) {
    if (const Json* v = Find(key)) v->is_number_integer() ? void(out = v->get<int64_t>()) : Fail();
  }
  // String items only; others are skipped, as statements always were.
  void Read(const char* key, std::vector<std::string>& out) {
    const Json* v = Find(key);
    if (v == nullptr) return;
    if (!v->is_array()) return Fail();
    out.clear();
    for (const auto& item : *v)
      if (item.is_string()) out.push_back(item.get<std::string>());
  }
  template <typename T>
  void Read(const char* key, std::optional<T>& out) {
    if (Find(key) == nullptr) return;
    T value{};
    Read(key, value);
    out = std::move(value);
  }

  // The entry is an object and every key had the right type.
  Status status() const {
    return ok_ && j_.is_object() ? Status::Ok() : Corruption("database entry malformed");
  }

 private:
  const Json* Find(const char* key) const {
    if (!j_.is_object()) return nullptr;
    auto it = j_.find(key);
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }
  void Fail() { ok_ = false; }

  const Json& j_;
  bool ok_ = true;
};

}  // namespace sealbox::engines::database
