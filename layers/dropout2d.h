// Dropout2d: channel dropout with probability p (kernels/dropout.h), active in Train and Sample mode.
//
// Reproducible: the mask of a forward at training step `step` (in Sample mode: at the key of the
// pass) is drawn from Philox stream name_stream("<name>@<step>") of the model seed, so it depends
// on (seed, step, layer) alone; a resumed run and a repeated forward at the same step draw the
// same mask.
//
// forward:  y (=), a new tensor (x is an iABN output that its backward still needs); in Eval
//           mode or with p = 0, y is x itself (no copy). Saves the mask {N,C}.
// backward: dx (=) into the caller's dx, which may be dy itself. Releases the mask.
#pragma once

#include <cstdint>
#include <string>

#include "layers/parameter.h"

namespace pans {

class Dropout2d {
 public:
  Dropout2d(const std::string& name, double p, std::uint64_t seed);

  Tensor forward(const Tensor& x, Mode mode, std::uint64_t step);
  void backward(const Tensor& dy, Tensor& dx);

  // The Philox stream of the mask at `step`, with which a test can redraw it.
  std::uint64_t stream_of_step(std::uint64_t step) const;

 private:
  std::string name_;
  double p_;
  std::uint64_t seed_;
  Tensor mask_;  // undefined when the last forward was the identity
};

}  // namespace pans
