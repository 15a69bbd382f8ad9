// How a backward pass tells its caller which parameter gradients are final, so that data
// parallelism can start averaging them while the rest of the backward runs (dist/gradient_averager.h).
//
// The network has no weight sharing: each parameter belongs to one layer and receives its whole
// gradient from that layer's backward. So right after a layer's backward its parameters are done,
// and the models report them there, layer by layer. A parameter whose branch receives no gradient
// in this pass (the deep-supervision branch when the caller passes none) is final at once and is
// reported before the rest. Every parameter is reported exactly once per backward; in a CUDA build
// its gradient is final on the legacy default stream, where the layer's kernels were enqueued.
#pragma once

#include <functional>
#include <vector>

#include "layers/parameter.h"

namespace pans {

// Called with the parameters whose gradients have just become final; empty: nobody listens.
using GradientReadyHook = std::function<void(const std::vector<Parameter>& ready)>;

// Reports every parameter of `layer` (anything with append_parameters) to the hook, if there is one.
template <class Layer>
void report_gradients_ready(const GradientReadyHook& hook, const Layer& layer) {
  if (!hook) return;
  std::vector<Parameter> ready;
  layer.append_parameters(ready);
  hook(ready);
}

}  // namespace pans
