#include "data/loader.h"

#include <cstring>
#include <utility>

#include "tensor/error.h"

namespace pans {

struct BatchLoader::PendingBatch {
  std::int64_t epoch = 0, batch_in_epoch = 0;
  std::vector<std::int64_t> indices;
  std::vector<std::optional<Sample>> samples;
  std::vector<std::exception_ptr> errors;  // per slot: the lowest failing slot is reported, whatever the timing
  std::int64_t remaining = 0;
  bool ready = false;
  Batch batch;
  std::exception_ptr error;
};

namespace {

// Stacks the samples into {B,H,W,3} and {B,H',W'}; every sample must have the first one's sizes.
Batch stack_samples(const std::vector<std::optional<Sample>>& samples, const std::vector<std::int64_t>& indices) {
  const Sample& first = *samples.front();
  PANS_CHECK(first.image.ndim() == 3 && first.image.dim(2) == 3 && first.label.ndim() == 2, "BatchLoader: sample ",
             indices.front(), " has ", first.image.describe("image"), " and ", first.label.describe("label"),
             "; expected {H,W,3} and {H,W}");
  const std::int64_t count = std::int64_t(samples.size());
  Batch batch;
  batch.images = Tensor::empty({count, first.image.dim(0), first.image.dim(1), 3});
  batch.labels = Tensor::empty({count, first.label.dim(0), first.label.dim(1)}, DType::U8);
  const std::size_t image_bytes = first.image.nbytes(), label_bytes = first.label.nbytes();
  for (std::int64_t i = 0; i < count; ++i) {
    const Sample& sample = *samples[std::size_t(i)];
    PANS_CHECK(sample.image.same_shape(first.image) && sample.label.same_shape(first.label) &&
                   sample.image.is_contiguous() && sample.label.is_contiguous(),
               "BatchLoader: the samples of a batch must share one size: sample ", indices[std::size_t(i)], " has ",
               sample.image.describe("image"), ", sample ", indices.front(), " has ", first.image.describe("image"));
    std::memcpy(reinterpret_cast<char*>(batch.images.data<float>()) + std::size_t(i) * image_bytes,
                sample.image.data<float>(), image_bytes);
    std::memcpy(batch.labels.data<std::uint8_t>() + std::size_t(i) * label_bytes, sample.label.data<std::uint8_t>(),
                label_bytes);
  }
  batch.indices = indices;
  return batch;
}

}  // namespace

BatchLoader::BatchLoader(DistributedSampler sampler, SampleFn load, LoaderConfig config, std::int64_t first_batch,
                         std::int64_t batch_count)
    : sampler_(std::move(sampler)), load_(std::move(load)), config_(config) {
  PANS_CHECK(config.batch_size > 0 && config.workers > 0 && config.prefetch_batches > 0 && first_batch >= 0,
             "BatchLoader: batch size ", config.batch_size, ", ", config.workers, " workers, prefetch ",
             config.prefetch_batches, ", first batch ", first_batch);
  const std::int64_t shard = sampler_.shard_size();
  batches_per_epoch_ = config.last_batch == LastBatch::Drop ? shard / config.batch_size
                                                            : (shard + config.batch_size - 1) / config.batch_size;
  PANS_CHECK(batches_per_epoch_ > 0, "BatchLoader: ", shard, " samples per rank make no batch of ", config.batch_size);
  next_delivery_ = job_batch_ = first_batch;
  end_batch_ = batch_count < 0 ? -1 : first_batch + batch_count;
  for (int i = 0; i < config.workers; ++i) workers_.emplace_back([this] { work(); });
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_available_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

std::optional<Batch> BatchLoader::next() {
  if (end_batch_ >= 0 && next_delivery_ >= end_batch_) return std::nullopt;
  std::unique_ptr<PendingBatch> done;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    batch_ready_.wait(lock, [&] {
      const auto found = pending_.find(next_delivery_);
      return found != pending_.end() && found->second->ready;
    });
    const auto found = pending_.find(next_delivery_);
    done = std::move(found->second);
    pending_.erase(found);
    ++next_delivery_;
  }
  work_available_.notify_all();  // the prefetch window moved
  if (done->error) std::rethrow_exception(done->error);
  done->batch.epoch = done->epoch;
  done->batch.batch_in_epoch = done->batch_in_epoch;
  return std::move(done->batch);
}

bool BatchLoader::job_available() const {
  return (end_batch_ < 0 || job_batch_ < end_batch_) && job_batch_ < next_delivery_ + config_.prefetch_batches;
}

std::vector<std::int64_t> BatchLoader::batch_indices(std::int64_t batch) {
  const std::int64_t epoch = batch / batches_per_epoch_, in_epoch = batch % batches_per_epoch_;
  epoch_orders_.erase(epoch_orders_.begin(), epoch_orders_.lower_bound(epoch));  // no job needs them again
  auto order = epoch_orders_.find(epoch);
  if (order == epoch_orders_.end()) order = epoch_orders_.emplace(epoch, sampler_.epoch_indices(epoch)).first;
  const std::int64_t begin = in_epoch * config_.batch_size;
  const std::int64_t end = std::min(begin + config_.batch_size, std::int64_t(order->second.size()));
  return {order->second.begin() + begin, order->second.begin() + end};
}

BatchLoader::Job BatchLoader::take_job() {
  if (job_slot_ == 0) {
    job_batch_indices_ = batch_indices(job_batch_);
    auto pending = std::make_unique<PendingBatch>();
    pending->epoch = job_batch_ / batches_per_epoch_;
    pending->batch_in_epoch = job_batch_ % batches_per_epoch_;
    pending->indices = job_batch_indices_;
    pending->samples.resize(job_batch_indices_.size());
    pending->errors.resize(job_batch_indices_.size());
    pending->remaining = std::int64_t(job_batch_indices_.size());
    pending_.emplace(job_batch_, std::move(pending));
  }
  const Job job{job_batch_, job_slot_, job_batch_indices_[std::size_t(job_slot_)], job_batch_ / batches_per_epoch_};
  if (++job_slot_ == std::int64_t(job_batch_indices_.size())) {
    ++job_batch_;
    job_slot_ = 0;
  }
  return job;
}

void BatchLoader::finish_job(const Job& job, std::optional<Sample> sample, std::exception_ptr error) {
  PendingBatch* pending;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending = pending_.at(job.batch).get();
    pending->samples[std::size_t(job.slot)] = std::move(sample);
    pending->errors[std::size_t(job.slot)] = error;
    if (--pending->remaining > 0) return;
  }
  // The last sample of the batch: this thread alone touches the batch until it is marked ready.
  for (const std::exception_ptr& slot_error : pending->errors)
    if (slot_error && !pending->error) pending->error = slot_error;
  if (!pending->error) {
    try {
      pending->batch = stack_samples(pending->samples, pending->indices);
    } catch (...) {
      pending->error = std::current_exception();
    }
  }
  pending->samples.clear();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending->ready = true;
  }
  batch_ready_.notify_all();
}

void BatchLoader::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_available_.wait(lock, [&] { return stopping_ || job_available(); });
      if (stopping_) return;
      job = take_job();
    }
    std::optional<Sample> sample;
    std::exception_ptr error;
    try {
      sample = load_(job.index, job.epoch);
    } catch (...) {
      error = std::current_exception();
    }
    finish_job(job, std::move(sample), error);
  }
}

}  // namespace pans
