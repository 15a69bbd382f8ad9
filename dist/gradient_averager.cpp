#include "dist/gradient_averager.h"

namespace pans {

std::vector<std::vector<std::size_t>> plan_gradient_buckets(const std::vector<std::size_t>& tensor_bytes,
                                                            std::size_t bucket_bytes) {
  PANS_CHECK(bucket_bytes > 0, "plan_gradient_buckets: the bucket size must be > 0");
  std::vector<std::vector<std::size_t>> buckets;
  std::size_t filled = 0;
  for (std::size_t i = 0; i < tensor_bytes.size(); ++i) {
    if (buckets.empty() || filled + tensor_bytes[i] > bucket_bytes) {
      buckets.emplace_back();
      filled = 0;
    }
    buckets.back().push_back(i);
    filled += tensor_bytes[i];
  }
  return buckets;
}

GradientAverager::GradientAverager(Communicator& communicator, std::vector<Tensor> grads, std::size_t bucket_bytes)
    : communicator_(communicator), grads_(std::move(grads)) {
  std::vector<std::size_t> sizes;
  for (const Tensor& grad : grads_) {
    PANS_CHECK(grad.defined() && grad.is_contiguous() && grad.dtype() == grads_.front().dtype() &&
                   (grad.dtype() == DType::F32 || grad.dtype() == DType::F64),
               "GradientAverager: ", grad.describe("grad"), " must be contiguous and float32 or float64, like ",
               grads_.front().describe("the first gradient"));
    sizes.push_back(grad.nbytes());
  }
  for (std::vector<std::size_t>& members : plan_gradient_buckets(sizes, bucket_bytes)) {
    std::int64_t elements = 0;
    for (const std::size_t i : members) elements += grads_[i].numel();
    buckets_.push_back({std::move(members), Tensor::empty({elements}, grads_.front().dtype(), communicator_.device())});
  }
}

void GradientAverager::average() {
  for (Bucket& bucket : buckets_) {
    std::int64_t offset = 0;
    for (const std::size_t i : bucket.members) {
      bucket.flat.narrow(0, offset, grads_[i].numel()).copy_from(grads_[i].reshape({grads_[i].numel()}));
      offset += grads_[i].numel();
    }
    communicator_.all_reduce(bucket.flat, ReduceOp::Average);
    offset = 0;
    for (const std::size_t i : bucket.members) {
      grads_[i].reshape({grads_[i].numel()}).copy_from(bucket.flat.narrow(0, offset, grads_[i].numel()));
      offset += grads_[i].numel();
    }
  }
}

}  // namespace pans
