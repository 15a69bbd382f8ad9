#include "dist/collective_watchdog.h"

#include <cstdio>
#include <cstdlib>

#include "tensor/error.h"

namespace pans {

CollectiveWatchdog::CollectiveWatchdog(double timeout_seconds, std::string who)
    : timeout_(timeout_seconds), who_(std::move(who)) {
  PANS_CHECK(timeout_seconds > 0, "CollectiveWatchdog: the timeout must be > 0 seconds, got ", timeout_seconds);
  thread_ = std::thread([this] { run(); });
}

CollectiveWatchdog::~CollectiveWatchdog() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_one();
  thread_.join();
}

CollectiveWatchdog::Watch::Watch(CollectiveWatchdog& watchdog, std::string what) : watchdog_(watchdog) {
  {
    const std::lock_guard<std::mutex> lock(watchdog_.mutex_);
    watchdog_.watching_ = true;
    watchdog_.what_ = std::move(what);
    watchdog_.deadline_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(watchdog_.timeout_);
  }
  watchdog_.changed_.notify_one();
}

CollectiveWatchdog::Watch::~Watch() {
  {
    const std::lock_guard<std::mutex> lock(watchdog_.mutex_);
    watchdog_.watching_ = false;
  }
  watchdog_.changed_.notify_one();
}

void CollectiveWatchdog::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (!watching_) {
      changed_.wait(lock);
    } else if (changed_.wait_until(lock, deadline_) == std::cv_status::timeout && watching_ &&
               Clock::now() >= deadline_) {
      expire(what_);
    }
  }
}

void CollectiveWatchdog::expire(const std::string& what) const {
  std::fprintf(stderr,
               "pans dist: %s: %s did not complete within %g s (PANS_DIST_TIMEOUT): another rank died, hangs or "
               "called a different collective; ending this process\n",
               who_.c_str(), what.c_str(), timeout_.count());
  std::fflush(stderr);
  std::_Exit(124);
}

}  // namespace pans
