// Finite-difference gradient checks in float64 (Caffe's checker, test_gradient_check_util.hpp,
// rewritten for pans tensors).
//
// Every check reduces an op's output to the scalar L = sum(g * output) with a fixed random g, so
// dL/d(output) = g is what the op's backward receives, and compares each analytic dL/d(input)
// with the central difference (L(v+h) - L(v-h)) / 2h.
//
// Error measure: |analytic - numeric| / max(1, |analytic|, |numeric|). Relative for gradients of
// magnitude above 1 and absolute below, so gradients near zero do not divide by ~0. In float64 with
// h = 1e-6 the central difference is accurate to about eps*|L|/h + h^2*|L'''| ~ 1e-9 for the O(10)
// losses of these small shapes, far below the 1e-6 the tests demand; a wrong formula is off by O(1).
#pragma once

#include <cstdint>
#include <functional>

#include "tensor/tensor.h"

namespace pans::test {

constexpr double kGradientTolerance = 1e-6;

// A CPU float64 tensor, uniform in [low, high), from Philox stream `stream` of seed 1234.
Tensor random_tensor(const Shape& shape, std::uint64_t stream, double low = -1.0, double high = 1.0);

// sum(g * output) over all elements (float64 tensors of one shape).
double weighted_sum(const Tensor& output, const Tensor& g);

// Max error of `analytic` (the gradient of loss() with respect to `input`) against central
// differences, perturbing each element of `input` in place and restoring it. loss() must read
// `input` afresh on every call.
double max_gradient_error(Tensor& input, const Tensor& analytic, const std::function<double()>& loss,
                          double step = 1e-6);

// Max of |a - b| / max(1, |a|, |b|) over two tensors of one shape (float32 or float64).
double max_relative_error(const Tensor& a, const Tensor& b);

}  // namespace pans::test
