// CUDA launchers behind kernels/cosine_head.h, float32 only (declared in every build, defined only
// with CUDA). Pointers are device pointers on the current device; shapes and output semantics (=
// or +=) are those of kernels/cosine_head.h: f {pixels, channels}, w {classes, channels}, logits
// {pixels, classes}. `scratch` is device memory of the size the matching *_scratch_floats gives,
// which the caller allocates (the caching allocator makes that cheap) and keeps until the launcher
// returns: its kernels are then queued, and the caller's free is ordered after them on the stream.
// Every reduction over pixels (dw, dbias) is deterministic: per-block partials summed in a fixed
// order, no float atomics, so two calls on one device give bit-identical results.
#pragma once

#include <cstdint>

namespace pans::cuda {

std::int64_t cosine_classifier_forward_scratch_floats(std::int64_t channels, std::int64_t classes);
std::int64_t cosine_classifier_backward_scratch_floats(std::int64_t pixels, std::int64_t channels,
                                                       std::int64_t classes);
std::int64_t linear_classifier_backward_scratch_floats(std::int64_t pixels, std::int64_t channels,
                                                       std::int64_t classes);

// y (=) = x / max(|x|, 1e-12) per row of the {rows, cols} matrix x; dx (=) its backward.
void l2_normalize_forward(std::int64_t rows, std::int64_t cols, const float* x, float* y);
void l2_normalize_backward(std::int64_t rows, std::int64_t cols, const float* x, const float* dy, float* dx);

void cosine_classifier_forward(std::int64_t pixels, std::int64_t channels, std::int64_t classes, const float* f,
                               const float* w, double tau, float* logits, float* scratch);
// df (=), dw (+=).
void cosine_classifier_backward(std::int64_t pixels, std::int64_t channels, std::int64_t classes, const float* dlogits,
                                const float* f, const float* w, double tau, float* df, float* dw, float* scratch);

// bias may be null (no bias).
void linear_classifier_forward(std::int64_t pixels, std::int64_t channels, std::int64_t classes, const float* f,
                               const float* w, const float* bias, float* logits);
// df (=), dw (+=), dbias (+=; may be null).
void linear_classifier_backward(std::int64_t pixels, std::int64_t channels, std::int64_t classes, const float* dlogits,
                                const float* f, const float* w, float* df, float* dw, float* dbias, float* scratch);

// similarity {pixels} (=) = max_k logits[p, k] / tau.
void cosine_max_similarity(std::int64_t pixels, std::int64_t classes, const float* logits, double tau,
                           float* similarity);

}  // namespace pans::cuda
