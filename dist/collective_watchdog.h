// Ends the process when a blocking collective outlives its deadline. A blocking MPI call cannot be
// interrupted, and when a peer dies or hangs (a kill, an out-of-memory, a deadlock on one rank) the
// others may wait in it for ever; no exception can reach a thread stuck inside MPI. So a second
// thread watches the deadline and, past it, prints what was waiting and for how long, then exits
// with status 124 (as timeout(1)). This is the one place where pans exits the process from library
// code: nothing else could end the wait. The launcher (mpirun, srun, torchrun) then ends the
// other ranks, as each does when one rank exits non-zero.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace pans {

class CollectiveWatchdog {
 public:
  // `who` names this process in the message (Communicator::describe()).
  CollectiveWatchdog(double timeout_seconds, std::string who);
  ~CollectiveWatchdog();
  CollectiveWatchdog(const CollectiveWatchdog&) = delete;
  CollectiveWatchdog& operator=(const CollectiveWatchdog&) = delete;

  // Watches one collective from construction to destruction; one at a time.
  class Watch {
   public:
    Watch(CollectiveWatchdog& watchdog, std::string what);
    ~Watch();
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

   private:
    CollectiveWatchdog& watchdog_;
  };

  double timeout_seconds() const { return timeout_.count(); }

 private:
  using Clock = std::chrono::steady_clock;

  void run();
  [[noreturn]] void expire(const std::string& what) const;

  const std::chrono::duration<double> timeout_;
  const std::string who_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  bool watching_ = false;
  std::string what_;
  Clock::time_point deadline_;
  std::thread thread_;
};

}  // namespace pans
