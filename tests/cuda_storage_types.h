// The activation storage types of the CUDA kernels, float32 and bfloat16, for CUDA tests typed
// over them: a body written once as
//   TEST_CASE_TEMPLATE("...", T, float, bf16)
// runs for each type, as the test cases "...<float32>" and "...<bfloat16>".
#pragma once

#include <doctest/doctest.h>

#include <type_traits>

#include "tensor/dtype.h"
#include "tensor/tensor.h"
#include "tests/cuda_test_util.h"

TYPE_TO_STRING_AS("float32", float);
TYPE_TO_STRING_AS("bfloat16", pans::bf16);

namespace pans::test {

// A cpu float32 tensor stored as `dtype`: on the GPU (bfloat16 is CUDA-only storage, so it is
// rounded on the cpu and moved at once), and the stored values as float32 and float64 for the
// oracles, which thus see exactly what the kernels read.
struct Stored {
  Tensor device, f32, f64;
  Stored(const Tensor& host, DType dtype)
      : device(host.cast(dtype).to(gpu())),
        f32(host.cast(dtype).cast(DType::F32)),
        f64(host.cast(dtype).cast(DType::F64)) {}
};

// The relative error that storing a float32 result as T adds (max_scaled_error divides by
// max(1, |value|), so it bounds that measure too): none for float32; for bfloat16, with 8
// significant bits (7 stored), half an ulp, 2^-8.
template <class T>
constexpr double kStoreRounding = std::is_same_v<T, bf16> ? 0x1p-8 : 0.0;

// A float32 value stored as T and read back.
template <class T>
float stored_value(float value) {
  if constexpr (std::is_same_v<T, bf16>)
    return bf16_to_float(float_to_bf16(value));
  else
    return value;
}

}  // namespace pans::test
