// cuDNN batch normalisation: the baseline InPlace-ABN is measured against (it is meant to beat cuDNN
// batch norm plus a separate activation: docs/benchmarks.md#ceilings) and an alternative for
// PANS_BN=cudnn (docs/gpu.md#cudnn-in-place-of-pans-kernels). Host code calling the library: plain
// declarations, defined in native CUDA builds with cuDNN (kernels/cuda/iabn_cudnn.cpp), elsewhere
// by stubs that throw (kernels/cuda/cudnn_disabled.cpp).
//
// Standard batch norm, not InPlace-ABN: y = scale (x - mean)/sqrt(var + eps) + bias with the scale
// as given (iABN's |w| + eps is the caller's business), x kept for the backward pass, no
// activation: cuDNN has no leaky ReLU, so the separate activation of the baseline (PyTorch's
// BatchNorm2d + LeakyReLU pair) is cuda::leaky_relu_forward/backward of
// kernels/cuda/cudnn_elementwise.h, one vectorized elementwise pass each. A PANS_BN=cudnn layer
// therefore keeps x for backward: it computes what iABN computes, without its memory savings.
// The calls are cudnnBatchNormalization{ForwardTraining,Backward}Ex with
// CUDNN_BATCHNORM_SPATIAL_PERSISTENT and NHWC tensors, the configuration of cuDNN's fast
// channels-last kernels.
//
// x, y, dy, dx: NHWC {n, h, w, c}, float32 or bfloat16 storage (`dtype`); every per-channel array
// ({c}: scale, bias, running and saved statistics, dscale, dbias) is float32. Device pointers on the
// current device; calls go to the legacy default stream. Written (=): y, save_mean,
// save_inv_std, dx. Updated: running_mean and running_var (cuDNN's exponential average with factor
// `momentum`, unbiased variance). Accumulated (+=): dscale, dbias (cuDNN's betaParamDiff = 1).
// `reserve` (reserve_bytes from cudnn_batch_norm_reserve_bytes) carries state from a forward to
// the backward of the same batch; the caller owns it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/dtype.h"

namespace pans::cuda {

struct BatchNormShape {
  std::int64_t batch, height, width, channels;
};

std::size_t cudnn_batch_norm_reserve_bytes(const BatchNormShape& shape, DType dtype);

void cudnn_batch_norm_forward_training(const BatchNormShape& shape, DType dtype, const void* x, void* y,
                                       const float* scale, const float* bias, float* running_mean, float* running_var,
                                       float* save_mean, float* save_inv_std, double momentum, double eps,
                                       void* reserve, std::size_t reserve_bytes);

// Evaluation: y (=) = scale (x - running_mean)/sqrt(running_var + eps) + bias
// (cudnnBatchNormalizationForwardInference, CUDNN_BATCHNORM_SPATIAL: the persistent mode is for
// training only). No reserve, no saved statistics.
void cudnn_batch_norm_forward_inference(const BatchNormShape& shape, DType dtype, const void* x, void* y,
                                        const float* scale, const float* bias, const float* running_mean,
                                        const float* running_var, double eps);

void cudnn_batch_norm_backward(const BatchNormShape& shape, DType dtype, const void* x, const void* dy, void* dx,
                               const float* scale, const float* bias, float* dscale, float* dbias,
                               const float* save_mean, const float* save_inv_std, double eps, void* reserve,
                               std::size_t reserve_bytes);

}  // namespace pans::cuda
