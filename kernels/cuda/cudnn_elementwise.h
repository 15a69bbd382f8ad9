// Elementwise kernels the library paths need and cuDNN lacks: dtype conversion, adding a bfloat16
// result into float32 (cuDNN writes dw in x's type, pans keeps float32 parameter gradients), and
// leaky ReLU (cudnnActivationMode_t has none), the "separate activation" of the cuDNN batch-norm
// baseline of InPlace-ABN, written as PyTorch's elementwise kernels are: one pass, 16-byte vectors;
// and the per-channel glue between InPlace-ABN's weight w and cuDNN's scale |w| + eps.
// Plain kernels (kernels/cuda/cudnn_elementwise.cu), so every CUDA build has them, the emulator
// included. Device pointers on the current device, 16-byte aligned (what the caching allocator
// returns) where the kernel reads 16-byte vectors (all but the per-channel glue); legacy default
// stream.
#pragma once

#include <cstdint>

#include "tensor/dtype.h"

namespace pans::cuda {

// dst[i] (=) = float_to_bf16(src[i]), round to nearest even.
void convert_float_to_bf16(const float* src, bf16* dst, std::int64_t count);

// dst[i] += bf16_to_float(src[i]).
void accumulate_bf16_into_float(const bf16* src, float* dst, std::int64_t count);

// y[i] (=) = x[i] >= 0 ? x[i] : slope x[i]; y may alias x. T = float or bf16.
template <class T>
void leaky_relu_forward(const T* x, T* y, std::int64_t count, float slope);

// dx[i] (=) = z[i] > 0 ? dz[i] : slope dz[i], from the forward output z (its sign is the input's
// for slope > 0, as PyTorch's in-place leaky_relu backward uses); dx may alias dz.
template <class T>
void leaky_relu_backward(const T* z, const T* dz, T* dx, std::int64_t count, float slope);

// scale[c] (=) = |w[c]| + eps: InPlace-ABN's gamma_hat, the scale cuDNN's batch norm is given.
void iabn_scale_from_weight(const float* w, float* scale, std::int64_t channels, float eps);

// dw[c] += sign(w[c]) dscale[c] with sign(0) = +1: the chain rule through gamma_hat = |w| + eps, as
// InPlace-ABN's own backward applies it, from cuDNN's gradient of the scale.
void accumulate_weight_gradient_from_scale(const float* w, const float* dscale, float* dw, std::int64_t channels);

}  // namespace pans::cuda
