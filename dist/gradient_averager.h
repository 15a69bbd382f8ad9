// Data-parallel gradient averaging: after backward, every parameter gradient becomes its average
// over the ranks, so that the optimizer steps alike everywhere. With each rank's loss a mean over its
// own batch, the average is the gradient of the mean loss over the global batch (synchronized iABN
// makes the cross-rank terms of batch normalisation exact too).
//
// Gradients are packed into buckets of at most bucket_bytes (25 MiB by default, PyTorch DDP's) and
// each bucket is one all-reduce: one call per tensor would pay the collective's latency hundreds
// of times per step (the PAnS model has ~300 parameter tensors, many of a few hundred bytes). The
// buckets live on the communicator's device (host buffers with MPI even for cuda gradients).
//
// Two ways to use it, both giving every rank the same averaged gradients:
//   overlapped: the model's backward reports each layer's parameters as their gradients become final
//     (models/gradient_ready.h) to on_gradients_ready(), which starts a bucket's all-reduce
//     (Communicator::start_all_reduce) as soon as all its members are in, while the backward goes on
//     with the layers below; finish() then waits for every bucket and unpacks it:
//       model.backward(dlogits, ddeep, [&](const std::vector<Parameter>& ready) {
//         averager.on_gradients_ready(ready);
//       });
//       averager.finish();
//   blocking: average() after the whole backward, one blocking all-reduce per bucket.
// Buckets are planned over the parameters in reverse order, as PyTorch DDP does: parameters() runs
// from the input to the output and backward from the output to the input, so the first bucket is
// the first to fill. Buckets start in their planned order on every rank (a bucket that fills early
// waits for the ones before it), so the ranks start the same all-reduces in the same order even if
// layers were to report in another order. With two ranks both modes give the same bits (each sum
// is of two values, in whatever order the library adds them); with more, the blocking and the
// started all-reduce may add in different orders, which differ within rounding.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "dist/communicator.h"
#include "layers/parameter.h"

namespace pans {

// Groups consecutive tensors of the given byte sizes into buckets of at most bucket_bytes (a larger
// tensor gets a bucket of its own); returns the tensor indices of each bucket.
std::vector<std::vector<std::size_t>> plan_gradient_buckets(const std::vector<std::size_t>& tensor_bytes,
                                                            std::size_t bucket_bytes);

class GradientAverager {
 public:
  static constexpr std::size_t kDefaultBucketBytes = std::size_t(25) << 20;

  // parameters: a model's parameters() (names unique; gradients float32 or float64, one dtype,
  // contiguous); their gradients are kept as views.
  GradientAverager(Communicator& communicator, const std::vector<Parameter>& parameters,
                   std::size_t bucket_bytes = kDefaultBucketBytes);

  // Overlapped mode, during a backward: the parameters whose gradients have just become final, each
  // once per backward. Starts every bucket that is complete (in order), and lets the started ones
  // progress. Throws naming a parameter it does not know or that was already reported.
  void on_gradients_ready(const std::vector<Parameter>& ready);
  // Overlapped mode, after the backward: waits for every bucket and writes the averages into the
  // gradients; then ready for the next backward. Throws naming the parameters never reported.
  void finish();

  // Blocking mode, after a backward without reports: every gradient <- its average over the ranks.
  void average();

  std::size_t bucket_count() const { return buckets_.size(); }
  // The parameter names of bucket b, in the order they are packed.
  std::vector<std::string> bucket_names(std::size_t b) const;

 private:
  struct Bucket {
    std::vector<std::size_t> members;               // indices into grads_
    Tensor flat;                                    // their concatenation, on the communicator's device
    std::size_t unreported = 0;                     // members not yet reported in this backward
    std::unique_ptr<PendingCollective> all_reduce;  // started, not yet finished
  };

  void pack(Bucket& bucket) const;
  void unpack(const Bucket& bucket);

  Communicator& communicator_;
  std::vector<std::string> names_;
  std::vector<Tensor> grads_;
  std::unordered_map<std::string, std::size_t> index_of_;  // name -> index into grads_
  std::vector<Bucket> buckets_;
  std::vector<std::size_t> bucket_of_;  // index into grads_ -> index into buckets_
  std::vector<bool> reported_;          // in this backward, by index into grads_
  std::size_t started_ = 0;             // buckets started in this backward: the first started_
};

}  // namespace pans
