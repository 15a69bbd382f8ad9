// InPlaceAbn: InPlace-ABN (kernels/iabn.h), batch normalisation with gamma_hat = |w| + eps
// followed by leaky ReLU 0.01 or the identity, written over its input.
//
// Parameters "<name>.weight" (init 1) and "<name>.bias" (init 0); buffers "<name>.running_mean"
// (0) and "<name>.running_var" (1); eps 1e-5, momentum 0.1 (method.md section 3). No
// num_batches_tracked: only a momentum of None (a cumulative average) would read it.
//
// Buffer ownership. forward(x) normalises x's memory in place and keeps that same memory as its
// saved output z; it returns a tensor sharing it. The input's producer must not need the input
// again: in the model it is always a convolution's output, and a convolution's backward needs its
// input and weight, never its output. The consumers of z (the next convolution, which saves it as
// its input; the residual add; dropout) must not modify it either, or backward inverts the wrong
// values: nothing writes into z until this layer's backward has run.
//
// forward:  z (=, over x); Train mode also updates the running statistics and saves the batch
//           variance. Training needs at least 2 values per channel (N*H*W >= 2).
// backward: dw (+=), db (+=); dx (=) into the caller's dx, which may be dz itself (then dz is
//           consumed). Uses the mode of the last forward. Releases the saved output.
//
// PANS_BN=cudnn (options.iabn_implementation, CUDA layers): the same computation by cuDNN's batch
// norm and a separate activation (kernels/iabn_cudnn.h). Not in place: forward returns a new tensor
// z and keeps x for backward, as a standard BN + activation does; Eval mode has no backward; local
// statistics only, so it refuses a batch_statistics_reducer.
//
// Synchronized iABN (method.md section 3): with options.batch_statistics_reducer set, a Train
// forward normalises with the statistics of the union of every rank's batch, and backward takes
// the means in dx over that union; dw and db stay local sums. Eval mode never communicates.
#pragma once

#include <string>
#include <vector>

#include "kernels/iabn.h"
#include "kernels/iabn_cudnn.h"
#include "layers/parameter.h"

namespace pans {

// The communication of synchronized iABN, implemented over a communicator by dist/ (layers know no
// backend). Every rank must call it in the same order, one call per Train forward and backward of
// each layer.
class BatchStatisticsReducer {
 public:
  virtual ~BatchStatisticsReducer() = default;
  // mean and biased var {C} of this rank's `count` values per channel (=) become those of every
  // rank's values together; returns the total count.
  virtual std::int64_t merge_statistics(Tensor& mean, Tensor& var, std::int64_t count) = 0;
  // sums {2, C}: this rank's (sum_dy, sum_xhat_dy) (=) become their sums over the ranks.
  virtual void sum_over_ranks(Tensor& sums) = 0;
};

class InPlaceAbn {
 public:
  InPlaceAbn(const std::string& name, std::int64_t channels, IabnActivation activation, const LayerOptions& options);

  Tensor forward(Tensor x, Mode mode);
  void backward(const Tensor& dz, Tensor& dx);

  void append_parameters(std::vector<Parameter>& out) const;
  void append_buffers(std::vector<Buffer>& out) const;

  Parameter weight;
  Parameter bias;
  Buffer running_mean;
  Buffer running_var;

 private:
  IabnParams params_;
  Mode mode_ = Mode::Train;
  Tensor output_;     // z: the forward input's memory, overwritten
  Tensor batch_var_;  // {C}: the biased batch variance of the last Train forward

  BatchStatisticsReducer* reducer_;  // null: local statistics
  std::int64_t batch_count_ = 0;     // the values per channel behind batch_var_, of every rank when synchronized

  bool cudnn_;                       // PANS_BN=cudnn on a CUDA layer
  Tensor cudnn_input_;               // x, which cuDNN's backward reads; defined from a cuDNN forward to its backward
  CudnnBatchNormSaved cudnn_saved_;  // of the last cuDNN Train forward

  void forward_train_synchronized(Tensor& x);
  void backward_train_synchronized(const Tensor& dz, Tensor& dx);
  Tensor forward_cudnn(const Tensor& x);
  void backward_cudnn(const Tensor& dz, Tensor& dx);
};

}  // namespace pans
