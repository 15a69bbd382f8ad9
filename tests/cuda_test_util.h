// Helpers of the CUDA parity tests, shared by the native and the emulated test binaries.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace pans::test {

inline Device gpu() { return Device::cuda(0); }

// True in the emulator build: assertions about what only the emulator guarantees (a deterministic
// schedule that exposes a missing barrier) are made there.
constexpr bool kEmulated =
#ifdef PANS_SIMT_EMU
    true;
#else
    false;
#endif

// A device tensor filled with NaN: an output element a kernel forgets to write stays NaN and
// fails the comparison.
Tensor nan_tensor(const Shape& shape, DType dtype = DType::F32, Device device = gpu());

// Copies any tensor to the cpu (no-op copy for cpu tensors).
Tensor on_cpu(const Tensor& tensor);

// A float64 cpu copy of any float tensor.
Tensor f64(const Tensor& tensor);

// A cpu float32 tensor, uniform in [low, high), from Philox stream `stream` of `seed`.
Tensor uniform_f32(const Shape& shape, std::uint64_t stream, double low, double high, std::uint64_t seed);

// True when two tensors (any devices) have one shape and dtype and the same bytes.
bool same_bits(const Tensor& a, const Tensor& b);

// max |a - reference| / max |reference| (the absolute error for an all-zero reference); NaN anywhere
// counts as infinite error.
double peak_error(const Tensor& a, const Tensor& reference);

// max |a - b| / max(1, |a|, |b|) over all elements; NaN anywhere counts as infinite error.
double max_scaled_error(const Tensor& a, const Tensor& b);

}  // namespace pans::test
