// InPlace-ABN (Rota Bulo et al., CVPR 2018; mapillary/inplace_abn): batch normalisation and an
// activation fused, the output written over the input. Per channel c, over the count = N*H*W values
// of x {N,H,W,C}:
//   gamma_hat = |w| + eps                      (the same eps as in the variance)
//   y = gamma_hat (x - mu) / sqrt(var + eps) + b,   z = act(y),   x <- z
// act is leaky ReLU (z = y for y >= 0, slope*y below, slope > 0) or the identity. Training uses the
// batch mean mu and biased variance var and updates the running statistics
//   running_mean <- (1 - momentum) running_mean + momentum mu
//   running_var  <- (1 - momentum) running_var  + momentum var count/(count - 1)   (unbiased)
// which needs count >= 2. Evaluation uses mu = running_mean, var = running_var.
//
// Backward needs neither x nor mu: it inverts the activation and the affine map from z,
//   y = act^-1(z),   dy = dz act'(y),   xhat = (y - b)/gamma_hat,
//   train: dx = gamma_hat/sqrt(var + eps) (dy - mean(dy) - xhat mean(xhat dy))   (var: the batch's)
//   eval:  dx = gamma_hat/sqrt(running_var + eps) dy
//   db += sum(dy),   dw += sign(w) sum(xhat dy)   with sign(0) = +1,
// means and sums taken over the count values of the channel.
//
// Written (=): z (over x), mean and var of iabn_batch_statistics, saved_var, dx. Updated: the running
// statistics. Accumulated (+=): dw, db. The per-channel tensors are {C}.
//
// dtypes: on the cpu all tensors share one, float32 or float64. On CUDA, float32 throughout, or
// mixed precision: the activations x, z, dz, dx in bfloat16 storage (one rounding, to nearest
// even, when stored) beside float32 w, b, mean, var, running statistics, saved_var, dw and db;
// all arithmetic, the statistics and the gradient sums are float32. Backward recovers
// xhat = (y - b)/(|w| + eps) from the stored z, so z's bfloat16 rounding (up to 2^-8 of |y|) reaches
// xhat multiplied by 1/(|w| + eps): for channels whose |w| is tiny the recovered xhat, hence dw and
// dx, are dominated by it (float32 storage has the same effect 2^16 times smaller).
//
// The training forward is three steps, also callable one by one so that synchronized iABN can merge
// (mean, var, count) across ranks between the statistics and the normalisation:
//   iabn_batch_statistics -> iabn_normalize_inplace -> iabn_update_running_statistics.
// The training backward likewise is two steps, so that synchronized iABN can sum (sum_dy,
// sum_xhat_dy) over ranks between them: iabn_backward_reduce -> iabn_backward_input_train.
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace pans {

enum class IabnActivation { LeakyRelu, Identity };
enum class IabnMode { Train, Eval };

struct IabnParams {
  IabnActivation activation = IabnActivation::LeakyRelu;
  double slope = 0.01;  // of the leaky ReLU; must be > 0 so that backward can invert it
  double eps = 1e-5;
  double momentum = 0.1;  // weight of the new batch in the running statistics
};

// mean {C} (=) and biased var {C} (=) of x {N,H,W,C} over N*H*W >= 1 values per channel.
void iabn_batch_statistics(const Tensor& x, Tensor& mean, Tensor& var);

// x {N,H,W,C} <- act(gamma_hat (x - mean)/sqrt(var + eps) + b) with the given per-channel statistics.
void iabn_normalize_inplace(Tensor& x, const Tensor& w, const Tensor& b, const Tensor& mean, const Tensor& var,
                            const IabnParams& params);

// Momentum update of the running statistics from the biased batch statistics of `count` values.
void iabn_update_running_statistics(Tensor& running_mean, Tensor& running_var, const Tensor& mean, const Tensor& var,
                                    std::int64_t count, const IabnParams& params);

// Training forward: the three steps above; saved_var {C} (=) receives the biased batch variance
// that iabn_backward needs in Train mode.
void iabn_forward_train(Tensor& x, const Tensor& w, const Tensor& b, Tensor& running_mean, Tensor& running_var,
                        Tensor& saved_var, const IabnParams& params);

// Evaluation forward with the running statistics.
void iabn_forward_eval(Tensor& x, const Tensor& w, const Tensor& b, const Tensor& running_mean,
                       const Tensor& running_var, const IabnParams& params);

// dx {N,H,W,C} (=), dw {C} (+=), db {C} (+=) from the forward output z and its gradient dz. `var` is
// saved_var in Train mode and running_var in Eval mode. dx may be the same tensor as dz: the
// per-channel sums are taken over dz first, then each dx element is written after its dz element
// is read.
void iabn_backward(const Tensor& z, const Tensor& dz, const Tensor& w, const Tensor& b, const Tensor& var, Tensor& dx,
                   Tensor& dw, Tensor& db, IabnMode mode, const IabnParams& params);

// The first training backward step: sum_dy {C} (=) and sum_xhat_dy {C} (=) over z's values, then
// db += sum_dy and dw += sign(w) sum_xhat_dy from these local sums (synchronized iABN leaves the
// parameter gradients local: they are averaged with every other gradient).
void iabn_backward_reduce(const Tensor& z, const Tensor& dz, const Tensor& w, const Tensor& b, Tensor& sum_dy,
                          Tensor& sum_xhat_dy, Tensor& dw, Tensor& db, const IabnParams& params);

// The second: dx (=) in Train mode from sums over `count` values per channel (z's own count, or the
// global count under synchronized iABN) and the biased variance `var` of those values. dx may be dz.
void iabn_backward_input_train(const Tensor& z, const Tensor& dz, const Tensor& w, const Tensor& b, const Tensor& var,
                               const Tensor& sum_dy, const Tensor& sum_xhat_dy, std::int64_t count, Tensor& dx,
                               const IabnParams& params);

}  // namespace pans
