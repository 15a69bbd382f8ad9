// InPlace-ABN computed by cuDNN (normalization cudnn, PANS_BN=cudnn; its layer is
// layers/cudnn_batch_norm_activation.h): the library alternative of kernels/iabn.h for CUDA
// tensors, a cross-check and a speed baseline, used only when asked for. It is what PyTorch's
// BatchNorm2d + LeakyReLU pair computes: cuDNN's standard batch normalisation with scale
// gamma_hat = |w| + eps, then a separate leaky ReLU pass (kernels/cuda/cudnn_elementwise.h).
//
// What it gives up: the in-place memory saving. cuDNN's backward reads x, so x is kept beside z
// until backward (and z is a new tensor); that is the memory standard BN + activation costs, and
// what InPlace-ABN avoids by inverting z. The arithmetic differs only in rounding: cuDNN computes
// the statistics its own way and backward uses x, not the x̂ recovered from z.
//
// Training needs at least 2 values per channel, as iabn_forward_train. Only the local batch:
// synchronized statistics over ranks need the native kernels. Evaluation has a forward only (cuDNN
// has no inference backward). Builds without cuDNN (CPU-only, the SIMT emulator, CUDA without the
// library) throw from every call, naming the function: never a silent substitution.
//
// dtypes: x, z, dz, dx float32 or bfloat16 storage; w, b, the running statistics, dw, db and the
// saved tensors float32, as in iabn.h's mixed precision. Written (=): z, saved, dx. Updated: the
// running statistics (momentum, unbiased variance, as iABN). Accumulated (+=): dw, db.
#pragma once

#include "kernels/iabn.h"

namespace pans {

// What a training forward leaves for its backward: cuDNN's batch mean and 1/sqrt(var + eps) {C},
// and its reserve space (bytes, possibly none).
struct CudnnBatchNormSaved {
  Tensor mean, inverse_std, reserve;
};

// z {N,H,W,C} (=) = act(gamma_hat (x - mu)/sqrt(var + eps) + b) with the batch statistics of x,
// which is left unchanged; z may not be x.
void iabn_cudnn_forward_train(const Tensor& x, Tensor& z, const Tensor& w, const Tensor& b, Tensor& running_mean,
                              Tensor& running_var, CudnnBatchNormSaved& saved, const IabnParams& params);

// The same with the running statistics.
void iabn_cudnn_forward_eval(const Tensor& x, Tensor& z, const Tensor& w, const Tensor& b,
                             const Tensor& running_mean, const Tensor& running_var, const IabnParams& params);

// dx (=), dw (+=), db (+=) of the training forward that read x, wrote z and filled `saved`. dx may
// be dz.
void iabn_cudnn_backward_train(const Tensor& x, const Tensor& z, const Tensor& dz, Tensor& dx, const Tensor& w,
                               const Tensor& b, Tensor& dw, Tensor& db, const CudnnBatchNormSaved& saved,
                               const IabnParams& params);

}  // namespace pans
