// BackendRegistry: mount type → backend factory. The composition root
// (server/main.cc) fills one with the engines and auth methods it links and
// hands it to the Core in CoreOptions, so core/ never includes engines/ and
// holds no process-wide registry. Core's own backends (sys, token, identity)
// are not in it.
// Thread-safety: filled before the Core is created, read-only afterwards.
#pragma once

#include <map>
#include <string>

#include "logical/backend.h"

namespace sealbox::core {

class BackendRegistry {
 public:
  void Register(const std::string& type, logical::BackendFactory f) { factories_[type] = std::move(f); }
  // The factory for `type`, or nullptr when nothing registered it.
  const logical::BackendFactory* Find(const std::string& type) const {
    auto it = factories_.find(type);
    return it == factories_.end() ? nullptr : &it->second;
  }

 private:
  std::map<std::string, logical::BackendFactory> factories_;
};

}  // namespace sealbox::core
