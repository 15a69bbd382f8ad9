// The CPU fast path's one thread pool, sized by configure_kernels (kernels/configuration.h) from
// Implementations::cpu_threads. OpenBLAS runs single-threaded inside it: each task runs whole
// GEMMs of its share of the work, so no GEMM thread spins (sched_yield) against the elementwise
// ops, and idle workers sleep on a condition variable instead of spinning. The calling thread
// takes tasks too, from the same counter as the workers: on a machine shared with other work a
// worker that is not scheduled in time only means the caller runs its tasks (an OpenMP team with
// active waiting measured 3x slower than single-threaded there, its barriers waiting on
// descheduled threads).
//
// Determinism: work is cut into chunks of a fixed size, independent of the thread count and of
// which thread runs which chunk, and reductions sum per-chunk partials in chunk order afterwards.
// So every result here is a function of the inputs alone; only the convolutions' split depends on
// the thread count (conv2d.h), which a bit-exact resume keeps by keeping --threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace pans::cpu_fast {

// Elements per chunk of an elementwise pass: large enough to amortise handing out a chunk (~1 µs),
// small enough to balance a few threads on the small preset's ~10^5..10^6-element activations.
constexpr std::int64_t kElementGrain = 16384;

// The number of chunks of `grain` covering `count`.
inline std::int64_t chunk_count(std::int64_t count, std::int64_t grain) { return (count + grain - 1) / grain; }

// task(t) for every t in [0, count), spread over the pool; returns when all have run. A call from
// inside a task, or while another thread's call is running, runs its tasks inline, serially.
// Tasks must not throw.
void parallel_tasks(std::int64_t count, const std::function<void(std::int64_t)>& task);

// body(chunk, begin, end) for every chunk [begin, end) of [0, count).
template <class Body>
void parallel_chunks(std::int64_t count, std::int64_t grain, Body body) {
  parallel_tasks(chunk_count(count, grain), [&](std::int64_t chunk) {
    body(chunk, chunk * grain, std::min(count, (chunk + 1) * grain));
  });
}

// The pool's threads, the caller's included.
int thread_count();

// Sets the pool's threads: `threads`, or one per core without it; returns the count set. OpenBLAS
// is set to one thread here too (see above). Throws pans::Error naming `flag` for a count below 1.
// Not thread-safe: call it while no op runs.
int set_threads(std::optional<int> threads, const std::string& flag);

}  // namespace pans::cpu_fast
