// Data-parallel gradient averaging: after backward, every parameter gradient becomes its average
// over the ranks, so that the optimizer steps alike everywhere. With each rank's loss a mean over its
// own batch, the average is the gradient of the mean loss over the global batch (synchronized iABN
// makes the cross-rank terms of batch normalisation exact too).
//
// Gradients are packed into buckets of at most bucket_bytes (25 MiB by default, PyTorch DDP's) and
// each bucket is one all_reduce: one call per tensor would pay the collective's latency hundreds
// of times per step (the PAnS model has ~300 parameter tensors, many of a few hundred bytes). The
// buckets live on the communicator's device (host buffers with MPI even for cuda gradients).
// Buckets are reduced after the whole backward; overlapping them with the backward pass on a
// stream of their own is not done yet.
#pragma once

#include <cstddef>
#include <vector>

#include "dist/communicator.h"

namespace pans {

// Groups consecutive tensors of the given byte sizes into buckets of at most bucket_bytes (a larger
// tensor gets a bucket of its own); returns the tensor indices of each bucket.
std::vector<std::vector<std::size_t>> plan_gradient_buckets(const std::vector<std::size_t>& tensor_bytes,
                                                            std::size_t bucket_bytes);

class GradientAverager {
 public:
  static constexpr std::size_t kDefaultBucketBytes = std::size_t(25) << 20;

  // grads: views of the parameters' gradients (float32 or float64, one dtype, contiguous), kept.
  GradientAverager(Communicator& communicator, std::vector<Tensor> grads,
                   std::size_t bucket_bytes = kDefaultBucketBytes);

  // Every gradient <- its average over the ranks.
  void average();

  std::size_t bucket_count() const { return buckets_.size(); }

 private:
  struct Bucket {
    std::vector<std::size_t> members;  // indices into grads_
    Tensor flat;                       // their concatenation, on the communicator's device
  };

  Communicator& communicator_;
  std::vector<Tensor> grads_;
  std::vector<Bucket> buckets_;
};

}  // namespace pans
