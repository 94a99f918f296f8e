// For tests of a fast path against nlohmann's own reader or parser: the same
// value with the same type at every level (1u and 1 compare equal in Json).
#pragma once

#include <gtest/gtest.h>

#include "base/json_util.h"

namespace sealbox::test_util {

inline void ExpectSameJson(const Json& a, const Json& b) {
  ASSERT_EQ(a.type(), b.type()) << a.dump() << " vs " << b.dump();
  ASSERT_EQ(a, b);
  if (a.is_object()) {
    for (auto& [k, v] : a.items()) ExpectSameJson(v, b.at(k));
  } else if (a.is_array()) {
    for (size_t i = 0; i < a.size(); ++i) ExpectSameJson(a[i], b[i]);
  }
}

}  // namespace sealbox::test_util
