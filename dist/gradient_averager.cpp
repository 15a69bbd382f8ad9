#include "dist/gradient_averager.h"

#include <algorithm>

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

GradientAverager::GradientAverager(Communicator& communicator, const std::vector<Parameter>& parameters,
                                   std::size_t bucket_bytes)
    : communicator_(communicator) {
  // Reverse order: the parameters of the output layers, whose gradients backward finishes first, first.
  std::vector<std::size_t> sizes;
  for (auto p = parameters.rbegin(); p != parameters.rend(); ++p) {
    const Tensor& grad = p->grad;
    PANS_CHECK(grad.defined() && grad.is_contiguous() && (grad.dtype() == DType::F32 || grad.dtype() == DType::F64) &&
                   (grads_.empty() || grad.dtype() == grads_.front().dtype()),
               "GradientAverager: ", grad.describe(p->name + ".grad"),
               " must be contiguous and float32 or float64, of one dtype with every other gradient");
    PANS_CHECK(index_of_.emplace(p->name, grads_.size()).second, "GradientAverager: two parameters are named ",
               p->name);
    names_.push_back(p->name);
    grads_.push_back(grad);
    sizes.push_back(grad.nbytes());
  }
  bucket_of_.resize(grads_.size());
  reported_.assign(grads_.size(), false);
  for (std::vector<std::size_t>& members : plan_gradient_buckets(sizes, bucket_bytes)) {
    std::int64_t elements = 0;
    for (const std::size_t i : members) {
      elements += grads_[i].numel();
      bucket_of_[i] = buckets_.size();
    }
    Bucket& bucket = buckets_.emplace_back();
    bucket.unreported = members.size();
    bucket.members = std::move(members);
    bucket.flat = Tensor::empty({elements}, grads_.front().dtype(), communicator_.device());
  }
}

std::vector<std::string> GradientAverager::bucket_names(std::size_t b) const {
  PANS_CHECK(b < buckets_.size(), "GradientAverager::bucket_names: bucket ", b, " of ", buckets_.size());
  std::vector<std::string> names;
  for (const std::size_t i : buckets_[b].members) names.push_back(names_[i]);
  return names;
}

void GradientAverager::pack(Bucket& bucket) const {
  std::int64_t offset = 0;
  for (const std::size_t i : bucket.members) {
    bucket.flat.narrow(0, offset, grads_[i].numel()).copy_from(grads_[i].reshape({grads_[i].numel()}));
    offset += grads_[i].numel();
  }
}

void GradientAverager::unpack(const Bucket& bucket) {
  std::int64_t offset = 0;
  for (const std::size_t i : bucket.members) {
    grads_[i].reshape({grads_[i].numel()}).copy_from(bucket.flat.narrow(0, offset, grads_[i].numel()));
    offset += grads_[i].numel();
  }
}

void GradientAverager::on_gradients_ready(const std::vector<Parameter>& ready) {
  for (const Parameter& parameter : ready) {
    const auto found = index_of_.find(parameter.name);
    PANS_CHECK(found != index_of_.end(), "GradientAverager: parameter ", parameter.name,
               " was reported ready, but it is not one of the averaged parameters");
    const std::size_t i = found->second;
    PANS_CHECK(parameter.grad.raw_data() == grads_[i].raw_data(), "GradientAverager: parameter ", parameter.name,
               " was reported ready with another gradient tensor than the one given at construction (another model?)");
    PANS_CHECK(!reported_[i], "GradientAverager: parameter ", parameter.name,
               " was reported ready twice in one backward (finish() ends a backward)");
    reported_[i] = true;
    --buckets_[bucket_of_[i]].unreported;
  }
  for (; started_ < buckets_.size() && buckets_[started_].unreported == 0; ++started_) {
    Bucket& bucket = buckets_[started_];
    pack(bucket);
    bucket.all_reduce = communicator_.start_all_reduce(bucket.flat, ReduceOp::Average);
  }
  for (std::size_t b = 0; b < started_; ++b)
    if (buckets_[b].all_reduce) buckets_[b].all_reduce->test();
}

void GradientAverager::finish() {
  if (started_ < buckets_.size()) {
    std::vector<std::string> missing;
    for (std::size_t i = 0; i < grads_.size(); ++i)
      if (!reported_[i]) missing.push_back(names_[i]);
    PANS_FAIL("GradientAverager::finish: ", missing.size(), " parameters were never reported ready (", missing.front(),
              missing.size() > 1 ? ", ..." : "", "); a backward must report every parameter (models/gradient_ready.h)");
  }
  for (Bucket& bucket : buckets_) {
    bucket.all_reduce->wait();
    bucket.all_reduce.reset();
    unpack(bucket);
    bucket.unreported = bucket.members.size();
  }
  std::fill(reported_.begin(), reported_.end(), false);
  started_ = 0;
}

void GradientAverager::average() {
  PANS_CHECK(std::find(reported_.begin(), reported_.end(), true) == reported_.end(),
             "GradientAverager::average: parameters were reported ready in this backward; end it with finish()");
  for (Bucket& bucket : buckets_) {
    pack(bucket);
    communicator_.all_reduce(bucket.flat, ReduceOp::Average);
    unpack(bucket);
  }
}

}  // namespace pans
