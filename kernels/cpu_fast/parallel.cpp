#include "kernels/cpu_fast/parallel.h"

#include <cblas.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "tensor/error.h"

namespace pans::cpu_fast {
namespace {

thread_local bool inside_task = false;

// One job at a time. claim_ packs (job number << 32 | next task index), claimed by compare-and-
// swap, so that a worker still claiming from a finished job can never take a task of the next one.
class Pool {
 public:
  explicit Pool(int threads) { start(threads); }
  ~Pool() { stop(); }

  int threads() const { return int(workers_.size()) + 1; }

  void resize(int threads) {
    stop();
    start(threads);
  }

  void run(std::int64_t count, const std::function<void(std::int64_t)>& task) {
    std::unique_lock<std::mutex> busy(run_mutex_, std::try_to_lock);
    if (count <= 1 || workers_.empty() || inside_task || !busy.owns_lock()) {
      for (std::int64_t t = 0; t < count; ++t) task(t);
      return;
    }
    PANS_CHECK(count < (std::int64_t(1) << 31), "cpu_fast: ", count, " tasks exceed a job's 2^31");
    std::uint64_t job;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job = ++job_;
      task_ = &task;
      count_ = count;
      finished_ = 0;
      claim_.store(job << 32);
    }
    wake_.notify_all();
    drain(job, count, task);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return finished_ == count; });
    task_ = nullptr;
  }

 private:
  void start(int threads) {
    stopping_ = false;
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& worker : workers_) worker.join();
    workers_.clear();
  }

  // Runs tasks of `job` until none is left; counts them as finished.
  void drain(std::uint64_t job, std::int64_t count, const std::function<void(std::int64_t)>& task) {
    std::int64_t ran = 0;
    std::uint64_t claim = claim_.load();
    for (;;) {
      const std::int64_t index = std::int64_t(claim & 0xffffffffu);
      if ((claim >> 32) != job || index >= count) break;
      // Only a claim of this job's next index succeeds; a failed exchange reloads `claim`.
      if (!claim_.compare_exchange_weak(claim, claim + 1)) continue;
      inside_task = true;
      task(index);
      inside_task = false;
      ++ran;
      claim = claim_.load();
    }
    if (ran == 0) return;
    std::lock_guard<std::mutex> lock(mutex_);
    finished_ += ran;
    if (finished_ == count) done_.notify_one();
  }

  void work() {
    std::uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || (job_ != seen && task_ != nullptr); });
      if (stopping_) return;
      seen = job_;
      const std::function<void(std::int64_t)>* task = task_;
      const std::int64_t count = count_;
      lock.unlock();
      drain(seen, count, *task);
      lock.lock();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex run_mutex_;  // one job at a time; other callers run inline
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::atomic<std::uint64_t> claim_{0};
  std::uint64_t job_ = 0;
  const std::function<void(std::int64_t)>* task_ = nullptr;
  std::int64_t count_ = 0, finished_ = 0;
  bool stopping_ = false;
};

int default_threads() { return int(std::max(1u, std::thread::hardware_concurrency())); }

Pool& pool() {
  // Never destroyed: worker threads must not be joined during static destruction, when an op of
  // another static's destructor could still run.
  static Pool* instance = [] {
    openblas_set_num_threads(1);  // before any task's GEMM, also where configure_kernels never runs
    return new Pool(default_threads());
  }();
  return *instance;
}

}  // namespace

void parallel_tasks(std::int64_t count, const std::function<void(std::int64_t)>& task) { pool().run(count, task); }

int thread_count() { return pool().threads(); }

int set_threads(std::optional<int> threads, const std::string& flag) {
  const int count = threads.value_or(default_threads());
  PANS_CHECK(count > 0, flag, " ", count, ": at least 1");
  openblas_set_num_threads(1);
  pool().resize(count);
  return count;
}

}  // namespace pans::cpu_fast
