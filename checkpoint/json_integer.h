// Integers read from a checkpoint's JSON header and recipe. nlohmann's get<int>() converts a JSON
// float with a plain cast, undefined behaviour when it is out of the type's range (found by
// tests/fuzz/fuzz_recipe: a width of 6.7e36), and wraps an integer that does not fit. Here an
// integer field must be a JSON integer within the type's range.
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tensor/error.h"

namespace pans {

// Throws pans::Error "<path>: <field> is <value>, not an integer of ..." otherwise.
template <class T>
T json_integer(const nlohmann::json& value, const std::string& path, const std::string& field) {
  using Limits = std::numeric_limits<T>;
  bool fits = false;
  if (value.is_number_unsigned()) {
    fits = value.get<std::uint64_t>() <= std::uint64_t(Limits::max());
  } else if (value.is_number_integer()) {
    const std::int64_t signed_value = value.get<std::int64_t>();
    fits = signed_value >= 0 ? std::uint64_t(signed_value) <= std::uint64_t(Limits::max())
                             : Limits::is_signed && signed_value >= std::int64_t(Limits::min());
  }
  PANS_CHECK(fits, path, ": ", field, " is ", value.dump(), ", not an integer in [", +Limits::min(), ", ",
             +Limits::max(), "]");
  return value.is_number_unsigned() ? T(value.get<std::uint64_t>()) : T(value.get<std::int64_t>());
}

template <class T>
std::vector<T> json_integers(const nlohmann::json& value, const std::string& path, const std::string& field) {
  PANS_CHECK(value.is_array(), path, ": ", field, " is ", value.dump(), ", not an array of integers");
  std::vector<T> values;
  for (const nlohmann::json& element : value) values.push_back(json_integer<T>(element, path, field));
  return values;
}

}  // namespace pans
