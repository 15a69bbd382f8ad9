// The classifiers on top of the 512-channel head features, plus the L2 normalisation they use.
//
// L2 normalisation over the last axis (per pixel of an NHWC tensor, per row of a {K,C} matrix):
//   y = v / max(|v|, 1e-12)                                 (PyTorch's F.normalize)
//   dv = (dy - y (y.dy)) / |v|   if |v| > 1e-12,   dv = dy / 1e-12 otherwise
// The switch at |v| = 1e-12 has no derivative; each side is exact.
//
// Cosine classifier (PAnS), f {N,H,W,C}, w {K,C}, no bias, tau fixed (not learnt):
//   logits[n,h,w,k] = tau * <f/|f|, w_k/|w_k|>            in [-tau, tau]
// Backward: df (=) and dw (+=). It recomputes f/|f| per pixel from f rather than keeping the
// normalised features from the forward: they would be a second {N,H,W,512} tensor, and one norm
// per pixel is cheap next to the K dot products.
//
// Linear classifier (the baseline, a 1x1 convolution): logits = f w^T + bias, w {K,C}, bias {K}
// or undefined. Backward: df (=), dw (+=), dbias (+=).
//
// Anomaly input (PAnS): cosine_max_similarity gives m = max_k cos_k = max_k logits_k / tau per
// pixel; the score is 1 - (m + 1)/2 after upsampling.
//
// CUDA tensors: float32 only (kernels/cuda/cosine_head.cu); dw and dbias are reduced over the
// pixels in a fixed order, so a backward gives the same bits on every call.
#pragma once

#include "tensor/tensor.h"

namespace pans {

constexpr double kCosineClassifierScale = 10.0;  // tau of PAnS

// x of any rank >= 1, y (=) of x's shape, normalised over the last axis.
void l2_normalize_forward(const Tensor& x, Tensor& y);
Tensor l2_normalize_forward(const Tensor& x);
// dx (=) from dy and the forward input x.
void l2_normalize_backward(const Tensor& dy, const Tensor& x, Tensor& dx);

// f {N,H,W,C}, w {K,C}, logits {N,H,W,K} (=).
void cosine_classifier_forward(const Tensor& f, const Tensor& w, Tensor& logits, double tau = kCosineClassifierScale);
Tensor cosine_classifier_forward(const Tensor& f, const Tensor& w, double tau = kCosineClassifierScale);
// df {N,H,W,C} (=) and dw {K,C} (+=) from dlogits {N,H,W,K} and the forward inputs f, w.
void cosine_classifier_backward(const Tensor& dlogits, const Tensor& f, const Tensor& w, Tensor& df, Tensor& dw,
                                double tau = kCosineClassifierScale);

// f {N,H,W,C}, w {K,C}, bias {K} or undefined, logits {N,H,W,K} (=).
void linear_classifier_forward(const Tensor& f, const Tensor& w, const Tensor& bias, Tensor& logits);
Tensor linear_classifier_forward(const Tensor& f, const Tensor& w, const Tensor& bias);
// df {N,H,W,C} (=), dw {K,C} (+=) and, if defined, dbias {K} (+=) from dlogits and f, w.
void linear_classifier_backward(const Tensor& dlogits, const Tensor& f, const Tensor& w, Tensor& df, Tensor& dw,
                                Tensor& dbias);

// similarity {N,H,W} (=) = max_k logits[n,h,w,k] / tau, from cosine classifier logits {N,H,W,K}.
void cosine_max_similarity(const Tensor& logits, Tensor& similarity, double tau = kCosineClassifierScale);
Tensor cosine_max_similarity(const Tensor& logits, double tau = kCosineClassifierScale);

}  // namespace pans
