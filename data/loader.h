// A prefetching batch loader: worker threads load and augment the samples of the next batches while
// the consumer (the training step) runs, and hand out batches strictly in order.
//
// The batches form one sequence across epochs: global batch g is batch g mod P of epoch g div P,
// with P = batches_per_epoch(). A run resumed at iteration g starts the loader at g and sees the
// very batches an uninterrupted run would have seen, because the sample order comes from the
// sampler (seed, epoch) and each sample's augmentation from (seed, epoch, index), never from which
// thread loaded it or when.
//
// At most `prefetch_batches` batches past the last one handed out are in flight or ready: memory
// stays bounded however slow the consumer is. An exception thrown while loading a sample (a corrupt
// PNG, a missing file) is rethrown by next() for the batch that holds the sample, unchanged, so its
// message still names the file. The destructor stops the workers after their current sample and
// joins them.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "data/augment.h"
#include "data/sampler.h"
#include "tensor/tensor.h"

namespace pans {

// Loads sample `index` of the dataset as it should look in `epoch`. Called from worker threads.
using SampleFn = std::function<Sample(std::int64_t index, std::int64_t epoch)>;

enum class LastBatch { Drop, Keep };  // an epoch's incomplete last batch (PAnS trains with Drop)

struct LoaderConfig {
  std::int64_t batch_size = 2;
  int workers = 2;
  int prefetch_batches = 4;
  LastBatch last_batch = LastBatch::Drop;
};

struct Batch {
  Tensor images;                      // float32 {B,H,W,3} on the CPU
  Tensor labels;                      // uint8 {B,H,W} on the CPU (for evaluation, at the labels' own resolution)
  std::vector<std::int64_t> indices;  // dataset index of each sample
  std::int64_t epoch = 0, batch_in_epoch = 0;
};

class BatchLoader {
 public:
  // Hands out global batches first_batch, first_batch + 1, ...: `batch_count` of them, or without
  // end when batch_count < 0.
  BatchLoader(DistributedSampler sampler, SampleFn load, LoaderConfig config, std::int64_t first_batch = 0,
              std::int64_t batch_count = -1);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  std::int64_t batches_per_epoch() const { return batches_per_epoch_; }
  // The next batch in order (waiting for it if needed); nullopt after the last one.
  std::optional<Batch> next();

 private:
  struct Job {
    std::int64_t batch, slot, index, epoch;
  };
  struct PendingBatch;

  void work();
  bool job_available() const;  // both need mutex_ held
  Job take_job();
  void finish_job(const Job& job, std::optional<Sample> sample, std::exception_ptr error);
  std::vector<std::int64_t> batch_indices(std::int64_t batch);

  const DistributedSampler sampler_;
  const SampleFn load_;
  const LoaderConfig config_;
  std::int64_t batches_per_epoch_;
  std::int64_t end_batch_;  // one past the last batch handed out; -1 = endless

  std::mutex mutex_;
  std::condition_variable work_available_, batch_ready_;
  bool stopping_ = false;
  std::int64_t next_delivery_;                   // the batch next() hands out next
  std::int64_t job_batch_, job_slot_ = 0;        // the next sample to load
  std::vector<std::int64_t> job_batch_indices_;  // the dataset indices of batch job_batch_
  std::map<std::int64_t, std::vector<std::int64_t>> epoch_orders_;
  std::map<std::int64_t, std::unique_ptr<PendingBatch>> pending_;
  std::vector<std::thread> workers_;
};

}  // namespace pans
