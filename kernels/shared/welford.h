// Welford's running (count, mean, M2) of a stream of values, and the merge of two such states by
// Chan, Golub and LeVeque ("Updating formulae and a pairwise algorithm for computing sample
// variances", 1979). Shared by the CUDA statistics kernels of InPlace-ABN (per thread, then across
// threads and blocks) and meant for synchronized iABN, which merges one (count, mean, biased var)
// per rank the same way.
//
// Why not E[x^2] - E[x]^2: it cancels catastrophically when |mean| >> std (in float32 a mean of 1e3
// and a std of 1 leave no correct digit), while Welford and Chan only ever subtract values of the
// size of the deviations.
#pragma once

#include "tensor/host_device.h"

namespace pans {

// count values with mean `mean` and sum of squared deviations `m2` (biased var = m2 / count).
// An aggregate, so it may live in __shared__ memory; {0, 0, 0} is the empty set.
template <class T>
struct WelfordState {
  T count, mean, m2;
};

template <class T>
PANS_HOST_DEVICE inline void welford_add(WelfordState<T>& state, T value) {
  state.count += T(1);
  const T delta = value - state.mean;
  state.mean += delta / state.count;
  state.m2 += delta * (value - state.mean);
}

// The state of the union of a and b. Not symmetric in its rounding: callers that must be
// deterministic merge in a fixed order.
template <class T>
PANS_HOST_DEVICE inline WelfordState<T> welford_merge(const WelfordState<T>& a, const WelfordState<T>& b) {
  if (b.count == T(0)) return a;
  if (a.count == T(0)) return b;
  const T count = a.count + b.count;
  const T delta = b.mean - a.mean;
  const T b_share = b.count / count;
  return {count, a.mean + delta * b_share, a.m2 + b.m2 + delta * delta * a.count * b_share};
}

}  // namespace pans
