// How a host thread that waits for a collective paces its polls. A small collective (synchronized
// iABN's statistics, a few KiB) completes in tens of microseconds, while a sleeping thread wakes
// up ~50-100 us late on Linux: sleeping from the first poll would multiply the latency of every
// such collective, ~100 of them per training step. So the waiter spins (yielding the core) for
// the first 100 us, then sleeps 100 us between polls, and after 10 ms, when the wait is long anyway
// (a large gradient bucket, a slow or dead peer), 1 ms, so as not to take a core from the data
// loader for a wait whose end a millisecond does not delay noticeably.
#pragma once

#include <chrono>
#include <thread>

namespace pans {

// The pause before the next poll after having waited `waited` (zero: spin).
inline std::chrono::microseconds poll_pause_after(std::chrono::steady_clock::duration waited) {
  using std::chrono::microseconds;
  if (waited < microseconds(100)) return microseconds(0);
  if (waited < std::chrono::milliseconds(10)) return microseconds(100);
  return microseconds(1000);
}

// One wait: construct at its start, call pause() between polls.
class PollPacer {
 public:
  PollPacer() : start_(std::chrono::steady_clock::now()) {}
  void pause() const {
    const std::chrono::microseconds pause = poll_pause_after(std::chrono::steady_clock::now() - start_);
    if (pause.count() == 0)
      std::this_thread::yield();
    else
      std::this_thread::sleep_for(pause);
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace pans
