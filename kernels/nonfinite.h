// Which tensors hold a NaN or an infinity: the divergence check of a training step over its
// gradients (train/trainer.cpp), which must name the first tensor that went non-finite.
//
// Tensors: float32 or float64 on the cpu, float32 on CUDA, contiguous, all on one device. One pass
// over every element; on CUDA one launch per tensor into a flag per tensor, then one copy of the
// flags to the host (the only synchronisation).
#pragma once

#include <cstddef>
#include <vector>

#include "tensor/tensor.h"

namespace pans {

// The indices into `tensors`, ascending, of those holding at least one NaN or +-infinity.
std::vector<std::size_t> tensors_with_nonfinite(const std::vector<Tensor>& tensors);

}  // namespace pans
