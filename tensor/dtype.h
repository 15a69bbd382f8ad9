// Element types. float64 exists for the CPU oracle's gradient checks; bfloat16 is a storage
// type only (arithmetic converts to float32 first, as the CUDA kernels do).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "tensor/host_device.h"

namespace pans {

enum class DType : std::uint8_t { F32, BF16, F64, I32, U8 };

std::size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);

// bfloat16 = the upper 16 bits of an IEEE float32.
struct bf16 {
  std::uint16_t bits;
};

PANS_HOST_DEVICE inline float bf16_to_float(bf16 value) {
  const std::uint32_t bits = std::uint32_t(value.bits) << 16;
  float result;
  std::memcpy(&result, &bits, sizeof(result));
  return result;
}

// Round to nearest, ties to even; NaN stays a quiet NaN (plain rounding could carry it into Inf).
PANS_HOST_DEVICE inline bf16 float_to_bf16(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  if ((bits & 0x7fffffffu) > 0x7f800000u) return bf16{std::uint16_t((bits >> 16) | 0x0040u)};
  const std::uint32_t rounding_bias = 0x7fffu + ((bits >> 16) & 1u);
  return bf16{std::uint16_t((bits + rounding_bias) >> 16)};
}

template <class T>
struct DTypeOf;
template <>
struct DTypeOf<float> {
  static constexpr DType value = DType::F32;
};
template <>
struct DTypeOf<bf16> {
  static constexpr DType value = DType::BF16;
};
template <>
struct DTypeOf<double> {
  static constexpr DType value = DType::F64;
};
template <>
struct DTypeOf<std::int32_t> {
  static constexpr DType value = DType::I32;
};
template <>
struct DTypeOf<std::uint8_t> {
  static constexpr DType value = DType::U8;
};

template <class T>
inline constexpr DType dtype_of = DTypeOf<T>::value;

}  // namespace pans
