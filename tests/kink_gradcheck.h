// Finite-difference gradient checks of whole layers and networks, in float64, that tolerate the
// kinks of leaky ReLU (in iABN and the residual add) and the switches of max pooling.
//
// An element is checked as tests/gradcheck.h does: the central difference (L(v+h) - L(v-h)) / 2h
// against the analytic gradient, error |a - n| / max(1, |a|, |n|) below kGradientTolerance. Deep in
// a network a pre-activation can lie within h of a kink for some perturbed element (thousands of
// activations, each moved by up to ~h), and there the central difference mixes the two slopes.
// Such an element passes instead if a one-sided second-order difference,
//   (-3 L(v) + 4 L(v+h) - L(v+2h)) / 2h   or   (3 L(v) - 4 L(v-h) + L(v-2h)) / 2h,
// agrees within the same tolerance: the side away from the kink is smooth, and these differences
// are exact to O(h^2 L''') like the central one (a first-order one-sided difference would be off by
// h L''/2, ~1e-4 for the stem weights of the tiny network). Such "near a kink" elements are
// counted, and each test bounds their number: a wrong gradient fails every element it touches,
// not a few scattered ones.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace pans::test {

// value: a float64 CPU tensor that loss() reads afresh on every call (perturbed in place and
// restored); analytic: dL/dvalue from the backward under test.
struct CheckedTensor {
  std::string name;
  Tensor value;
  Tensor analytic;
};

struct KinkAwareResult {
  double max_error = 0;        // over the elements not near a kink
  std::string worst;           // "name[index]: analytic a, central n" of that maximum
  std::int64_t checked = 0;    // elements checked
  std::int64_t near_kink = 0;  // elements that passed by a one-sided difference only
};

KinkAwareResult check_gradients_near_kinks(const std::vector<CheckedTensor>& tensors,
                                           const std::function<double()>& loss, double step = 1e-6);

}  // namespace pans::test
