// InPlaceAbn: InPlace-ABN (kernels/iabn.h) on pans' kernels, a NormActivation
// (layers/norm_activation.h: parameters, buffers and the forward/backward contract).
//
// Buffer ownership. forward(x) normalises x's memory in place and keeps that same memory as its
// saved output z; it returns a tensor sharing it. The input's producer must not need the input
// again: in the model it is always a convolution's output, and a convolution's backward needs its
// input and weight, never its output. The consumers of z (the next convolution, which saves it as
// its input; the residual add; dropout) must not modify it either, or backward inverts the wrong
// values: nothing writes into z until this layer's backward has run. Train mode also saves the
// batch variance; backward releases the saved output.
//
// Synchronized iABN (docs/method.md#synchronized-inplace-abn, docs/distributed.md): with options.batch_statistics_reducer
// set, a Train forward normalises with the statistics of the union of every rank's batch, and
// backward takes the means in dx over that union; dw and db stay local sums. Eval mode never
// communicates.
#pragma once

#include <string>

#include "layers/norm_activation.h"

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

class InPlaceAbn final : public NormActivation {
 public:
  InPlaceAbn(const std::string& name, std::int64_t channels, IabnActivation activation, const LayerOptions& options);

  Tensor forward(Tensor x, Mode mode) override;
  void backward(const Tensor& dz, Tensor& dx) override;

 private:
  Tensor output_;     // z: the forward input's memory, overwritten
  Tensor batch_var_;  // {C}: the biased batch variance of the last Train forward

  BatchStatisticsReducer* reducer_;  // null: local statistics
  std::int64_t batch_count_ = 0;     // the values per channel behind batch_var_, of every rank when synchronized

  void forward_train_synchronized(Tensor& x);
  void backward_train_synchronized(const Tensor& dz, Tensor& dx);
};

}  // namespace pans
