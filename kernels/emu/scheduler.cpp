#include "kernels/emu/scheduler.h"

#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "config/environment.h"
#include "kernels/emu/builtins.h"
#include "tensor/error.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define PANS_EMU_ASAN 1
#endif

namespace pans::emu {
namespace {

constexpr int kWarpSize = 32;
constexpr std::size_t kFiberStackBytes = 512 * 1024;

// ---------------------------------------------------------------------------------------------
// Fibers. A fiber's stack is mmap'ed once with a guard page below it and reused across blocks.

enum class ThreadState { Runnable, AtBarrier, AtWarpCollective, Done };

struct Site {
  const char* file = nullptr;
  int line = 0;
  std::string str() const { return std::string(file ? file : "?") + ":" + std::to_string(line); }
  bool operator==(const Site& other) const { return line == other.line && std::strcmp(file, other.file) == 0; }
};

struct WarpSlot {
  WarpOp op;
  WarpResolver resolver;
  unsigned mask;
  std::uint64_t value;
  int lane_argument, width;
  Site site;
  std::uint64_t result;
};

struct PendingCopy {
  void* destination;
  std::vector<unsigned char> data;  // the source bytes, zero-filled past source_bytes
};

struct EmulatedThread {
  ucontext_t context;
  char* stack = nullptr;
  uint3 index;
  int linear = 0;
  ThreadState state = ThreadState::Runnable;
  Site waiting_at;
  std::exception_ptr error;
  std::vector<PendingCopy> uncommitted_copies;
  std::vector<std::vector<PendingCopy>> committed_groups;  // oldest first
#ifdef PANS_EMU_ASAN
  void* fake_stack = nullptr;
#endif
};

struct Warp {
  int lanes = 0;  // existing lanes: 32, or fewer in the last warp of a block
  int arrived = 0;
  WarpSlot slots[kWarpSize];
};

struct BlockState {
  std::vector<EmulatedThread> threads;  // grows to the largest block seen; stacks persist
  std::vector<Warp> warps;
  std::vector<unsigned char> dynamic_shared;
  ucontext_t scheduler_context;
  EmulatedThread* current = nullptr;
  const std::function<void()>* body = nullptr;
#ifdef PANS_EMU_ASAN
  const void* scheduler_stack_bottom = nullptr;
  std::size_t scheduler_stack_size = 0;
  void* scheduler_fake_stack = nullptr;
#endif
};

BlockState& block() {
  static BlockState state;
  return state;
}

char* allocate_stack() {
  const long page = sysconf(_SC_PAGESIZE);
  void* memory = mmap(nullptr, kFiberStackBytes + page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  PANS_CHECK(memory != MAP_FAILED, "SIMT emulator: cannot map a fiber stack");
  mprotect(memory, page, PROT_NONE);  // a stack overflow faults instead of corrupting a neighbour
  return static_cast<char*>(memory) + page;
}

// Switches from the running fiber back to the scheduler. `finished`: the fiber never resumes.
void yield_to_scheduler(bool finished) {
  BlockState& state = block();
  EmulatedThread* self = state.current;
#ifdef PANS_EMU_ASAN
  __sanitizer_start_switch_fiber(finished ? nullptr : &self->fake_stack, state.scheduler_stack_bottom,
                                 state.scheduler_stack_size);
#endif
  (void)finished;
  swapcontext(&self->context, &state.scheduler_context);
#ifdef PANS_EMU_ASAN
  __sanitizer_finish_switch_fiber(self->fake_stack, nullptr, nullptr);
#endif
}

void fiber_entry() {
  BlockState& state = block();
#ifdef PANS_EMU_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &state.scheduler_stack_bottom, &state.scheduler_stack_size);
#endif
  EmulatedThread* self = state.current;
  try {
    (*state.body)();
    PANS_CHECK(self->uncommitted_copies.empty() && self->committed_groups.empty(), "thread ", self->linear,
               " returned with cp.async copies it never waited for");
  } catch (...) {
    self->error = std::current_exception();
  }
  self->state = ThreadState::Done;
  yield_to_scheduler(true);
}

void resume(EmulatedThread& thread) {
  BlockState& state = block();
  state.current = &thread;
  threadIdx = thread.index;
#ifdef PANS_EMU_ASAN
  __sanitizer_start_switch_fiber(&state.scheduler_fake_stack, thread.stack, kFiberStackBytes);
#endif
  swapcontext(&state.scheduler_context, &thread.context);
#ifdef PANS_EMU_ASAN
  __sanitizer_finish_switch_fiber(state.scheduler_fake_stack, nullptr, nullptr);
#endif
  state.current = nullptr;
}

// ---------------------------------------------------------------------------------------------
// Schedules.

enum class Order { Shuffled, Forward, Reverse };

struct Schedule {
  Order order = Order::Shuffled;
  std::uint64_t seed = 0x5eed;
  std::string str() const {
    switch (order) {
      case Order::Forward:
        return "PANS_EMU_SCHEDULE=forward";
      case Order::Reverse:
        return "PANS_EMU_SCHEDULE=reverse";
      case Order::Shuffled:
        break;
    }
    return "PANS_EMU_SCHEDULE=shuffled PANS_EMU_SEED=" + std::to_string(seed);
  }
};

Schedule schedule_from_environment() {
  Schedule schedule;
  const EnvironmentValues values = read_environment({"PANS_EMU_SCHEDULE", "PANS_EMU_SEED"});
  if (const auto order = values.find("PANS_EMU_SCHEDULE"); order != values.end()) {
    const std::string& text = order->second;
    if (text == "forward")
      schedule.order = Order::Forward;
    else if (text == "reverse")
      schedule.order = Order::Reverse;
    else
      PANS_CHECK(text == "shuffled", "PANS_EMU_SCHEDULE='", text, "': expected shuffled, forward or reverse");
  }
  if (const auto seed = values.find("PANS_EMU_SEED"); seed != values.end())
    schedule.seed = std::strtoull(seed->second.c_str(), nullptr, 0);
  return schedule;
}

// ---------------------------------------------------------------------------------------------
// Warp collectives.

std::uint64_t poison_value() { return ~std::uint64_t(0); }  // NaN as float or double

int source_lane(const WarpSlot& slot, int lane) {
  const int low = lane & ~(slot.width - 1), high = low + slot.width - 1;
  switch (slot.op) {
    case WarpOp::ShuffleIndex:
      return low + (slot.lane_argument & (slot.width - 1));
    case WarpOp::ShuffleUp:
      return lane - slot.lane_argument >= low ? lane - slot.lane_argument : lane;
    case WarpOp::ShuffleDown:
      return lane + slot.lane_argument <= high ? lane + slot.lane_argument : lane;
    case WarpOp::ShuffleXor:
      return (lane ^ slot.lane_argument) <= high ? lane ^ slot.lane_argument : lane;
    default:
      return lane;
  }
}

void resolve_warp(Warp& warp, int warp_index) {
  const WarpSlot& first = warp.slots[0];
  const unsigned existing = warp.lanes == kWarpSize ? 0xffffffffu : (1u << warp.lanes) - 1;
  for (int lane = 0; lane < warp.lanes; ++lane) {
    const WarpSlot& slot = warp.slots[lane];
    PANS_CHECK(slot.op == first.op && slot.resolver == first.resolver && slot.mask == first.mask &&
                   slot.site == first.site && slot.width == first.width,
               "warp ", warp_index, ": lane ", lane, " is in a different warp collective (", slot.site.str(),
               ") than lane 0 (", first.site.str(), ")");
  }
  PANS_CHECK((first.mask & existing) == existing, "warp ", warp_index, " at ", first.site.str(), ": mask 0x", std::hex,
             first.mask, " leaves out lanes; the emulator supports full-warp collectives only");
  PANS_CHECK(first.width >= 1 && first.width <= kWarpSize && (first.width & (first.width - 1)) == 0, "warp ",
             warp_index, " at ", first.site.str(), ": shuffle width ", first.width, " is not a power of 2 up to 32");
  if (first.op == WarpOp::Exchange) {
    void* payloads[kWarpSize] = {};
    for (int lane = 0; lane < warp.lanes; ++lane) payloads[lane] = reinterpret_cast<void*>(warp.slots[lane].value);
    first.resolver(payloads, warp.lanes);
    return;
  }
  std::uint64_t ballot = 0;
  for (int lane = 0; lane < warp.lanes; ++lane)
    if (warp.slots[lane].value != 0) ballot |= std::uint64_t(1) << lane;
  for (int lane = 0; lane < warp.lanes; ++lane) {
    WarpSlot& slot = warp.slots[lane];
    switch (slot.op) {
      case WarpOp::Sync:
        slot.result = 0;
        break;
      case WarpOp::Ballot:
        slot.result = ballot;
        break;
      case WarpOp::Any:
        slot.result = ballot != 0;
        break;
      case WarpOp::All:
        slot.result = ballot == existing;
        break;
      default: {
        const int source = source_lane(slot, lane);
        slot.result = source >= 0 && source < warp.lanes ? warp.slots[source].value : poison_value();
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Blocks.

std::map<const void*, std::size_t>& shared_opt_ins() {
  static std::map<const void*, std::size_t> opt_ins;
  return opt_ins;
}

std::string describe_waiters(const std::vector<EmulatedThread>& threads, int count) {
  std::string text;
  for (int i = 0; i < count; ++i) {
    const EmulatedThread& t = threads[std::size_t(i)];
    const char* what = t.state == ThreadState::AtBarrier          ? "__syncthreads"
                       : t.state == ThreadState::AtWarpCollective ? "warp collective"
                       : t.state == ThreadState::Done             ? "returned"
                                                                  : "runnable";
    text += "\n  thread " + std::to_string(i) + ": " + what;
    if (t.state == ThreadState::AtBarrier || t.state == ThreadState::AtWarpCollective)
      text += " at " + t.waiting_at.str();
    if (i >= 15 && count > 17) {
      text += "\n  ... " + std::to_string(count - i - 1) + " more";
      break;
    }
  }
  return text;
}

// All runnable threads have run and none can go on: either every live thread waits at one
// __syncthreads (release them) or the block is stuck.
bool release_barrier(std::vector<EmulatedThread>& threads, int count) {
  int waiting = 0, done = 0;
  const EmulatedThread* first = nullptr;
  for (int i = 0; i < count; ++i) {
    const EmulatedThread& t = threads[std::size_t(i)];
    if (t.state == ThreadState::Done) ++done;
    if (t.state == ThreadState::AtBarrier) {
      ++waiting;
      if (first == nullptr) first = &t;
    }
  }
  if (done == count) return false;
  PANS_CHECK(waiting + done == count && done == 0,
             "deadlock or divergent barrier: not every thread of the block reaches the same __syncthreads",
             describe_waiters(threads, count));
  for (int i = 0; i < count; ++i)
    PANS_CHECK(threads[std::size_t(i)].waiting_at == first->waiting_at, "divergent __syncthreads: thread ", i,
               " waits at ", threads[std::size_t(i)].waiting_at.str(), ", thread ", first->linear, " at ",
               first->waiting_at.str());
  for (int i = 0; i < count; ++i) threads[std::size_t(i)].state = ThreadState::Runnable;
  return true;
}

void run_block(const LaunchConfig& config, int count, std::mt19937_64& random, const Schedule& schedule) {
  BlockState& state = block();
  for (int i = 0; i < count; ++i) {
    EmulatedThread& t = state.threads[std::size_t(i)];
    t.state = ThreadState::Runnable;
    t.error = nullptr;
    t.uncommitted_copies.clear();
    t.committed_groups.clear();
    t.linear = i;
    t.index = uint3{unsigned(i % config.block.x), unsigned(i / config.block.x % config.block.y),
                    unsigned(i / (config.block.x * config.block.y))};
    getcontext(&t.context);
    t.context.uc_stack.ss_sp = t.stack;
    t.context.uc_stack.ss_size = kFiberStackBytes;
    t.context.uc_link = nullptr;
    makecontext(&t.context, fiber_entry, 0);
  }
  for (std::size_t w = 0; w < state.warps.size(); ++w) {
    state.warps[w].lanes = std::min(kWarpSize, count - int(w) * kWarpSize);
    state.warps[w].arrived = 0;
  }
  std::fill(state.dynamic_shared.begin(), state.dynamic_shared.end(), 0xFF);

  std::vector<int> order;
  order.reserve(static_cast<std::size_t>(count));
  do {
    for (;;) {
      order.clear();
      for (int i = 0; i < count; ++i)
        if (state.threads[std::size_t(i)].state == ThreadState::Runnable) order.push_back(i);
      if (order.empty()) break;
      if (schedule.order == Order::Shuffled) std::shuffle(order.begin(), order.end(), random);
      if (schedule.order == Order::Reverse) std::reverse(order.begin(), order.end());
      for (int i : order) {
        EmulatedThread& t = state.threads[std::size_t(i)];
        if (t.state != ThreadState::Runnable) continue;
        resume(t);
        if (t.error) std::rethrow_exception(t.error);
      }
    }
  } while (release_barrier(state.threads, count));
}

std::string where(const LaunchConfig& config, const Schedule& schedule) {
  return std::string("kernel ") + config.kernel_name + " (grid " + std::to_string(config.grid.x) + "x" +
         std::to_string(config.grid.y) + "x" + std::to_string(config.grid.z) + ", block " +
         std::to_string(config.block.x) + "x" + std::to_string(config.block.y) + "x" + std::to_string(config.block.z) +
         ", block index " + std::to_string(blockIdx.x) + "," + std::to_string(blockIdx.y) + "," +
         std::to_string(blockIdx.z) + ", " + schedule.str() + ")";
}

void check_launch(const LaunchConfig& config) {
  const dim3 g = config.grid, b = config.block;
  const std::uint64_t threads = std::uint64_t(b.x) * b.y * b.z;
  PANS_CHECK(g.x > 0 && g.y > 0 && g.z > 0 && threads > 0, "launch of ", config.kernel_name,
             ": invalid configuration argument (a zero-size grid or block)");
  PANS_CHECK(threads <= 1024 && b.x <= 1024 && b.y <= 1024 && b.z <= 64, "launch of ", config.kernel_name,
             ": invalid configuration argument (block ", b.x, "x", b.y, "x", b.z,
             " exceeds 1024 threads or 1024x1024x64)");
  PANS_CHECK(g.x <= 2147483647u && g.y <= 65535 && g.z <= 65535, "launch of ", config.kernel_name,
             ": invalid configuration argument (grid ", g.x, "x", g.y, "x", g.z, ")");
  PANS_CHECK(config.dynamic_shared_bytes <= config.max_dynamic_shared_bytes, "launch of ", config.kernel_name, ": ",
             config.dynamic_shared_bytes, " bytes of dynamic shared memory exceed the ",
             config.max_dynamic_shared_bytes, " allowed",
             config.max_dynamic_shared_bytes == kDefaultSharedBytes
                 ? " without opting in (set_max_dynamic_shared_bytes / cudaFuncSetAttribute)"
                 : "");
}

}  // namespace

void run_grid(const LaunchConfig& config, const std::function<void()>& thread_body) {
  static std::mutex one_launch_at_a_time;
  std::lock_guard<std::mutex> lock(one_launch_at_a_time);
  check_launch(config);
  static const Schedule schedule = schedule_from_environment();
  BlockState& state = block();
  const int count = int(config.block.x * config.block.y * config.block.z);
  while (int(state.threads.size()) < count) {
    state.threads.emplace_back();
    state.threads.back().stack = allocate_stack();
  }
  state.warps.assign(std::size_t((count + kWarpSize - 1) / kWarpSize), Warp{});
  state.dynamic_shared.assign(config.dynamic_shared_bytes, 0xFF);
  state.body = &thread_body;
  blockDim = config.block;
  gridDim = config.grid;
  std::mt19937_64 random(schedule.seed);
  for (unsigned z = 0; z < config.grid.z; ++z)
    for (unsigned y = 0; y < config.grid.y; ++y)
      for (unsigned x = 0; x < config.grid.x; ++x) {
        blockIdx = uint3{x, y, z};
        try {
          run_block(config, count, random, schedule);
        } catch (const std::exception& error) {
          throw Error(where(config, schedule) + ": " + error.what());
        }
      }
}

void block_barrier(const char* file, int line) {
  BlockState& state = block();
  PANS_CHECK(state.current != nullptr, "__syncthreads called outside a kernel");
  state.current->state = ThreadState::AtBarrier;
  state.current->waiting_at = Site{file, line};
  yield_to_scheduler(false);
}

namespace {

std::uint64_t arrive_at_warp(WarpOp op, WarpResolver resolver, unsigned mask, std::uint64_t value, int lane_argument,
                             int width, const char* file, int line) {
  BlockState& state = block();
  EmulatedThread* self = state.current;
  PANS_CHECK(self != nullptr, "warp collective called outside a kernel");
  const int warp_index = self->linear / kWarpSize, lane = self->linear % kWarpSize;
  Warp& warp = state.warps[std::size_t(warp_index)];
  warp.slots[lane] = WarpSlot{op, resolver, mask, value, lane_argument, width, Site{file, line}, 0};
  if (++warp.arrived == warp.lanes) {
    warp.arrived = 0;
    resolve_warp(warp, warp_index);
    for (int other = 0; other < warp.lanes; ++other) {
      EmulatedThread& t = state.threads[std::size_t(warp_index * kWarpSize + other)];
      if (&t != self) t.state = ThreadState::Runnable;
    }
    return warp.slots[lane].result;
  }
  self->state = ThreadState::AtWarpCollective;
  self->waiting_at = Site{file, line};
  yield_to_scheduler(false);
  return warp.slots[lane].result;
}

EmulatedThread& running_thread(const char* what) {
  EmulatedThread* self = block().current;
  PANS_CHECK(self != nullptr, what, " called outside a kernel");
  return *self;
}

void land(const PendingCopy& copy) { std::memcpy(copy.destination, copy.data.data(), copy.data.size()); }

}  // namespace

std::uint64_t warp_collective(WarpOp op, unsigned mask, std::uint64_t value, int lane_argument, int width,
                              const char* file, int line) {
  return arrive_at_warp(op, nullptr, mask, value, lane_argument, width, file, line);
}

void warp_exchange(WarpResolver resolve, void* payload, const char* file, int line) {
  arrive_at_warp(WarpOp::Exchange, resolve, 0xffffffffu, reinterpret_cast<std::uintptr_t>(payload), 0, kWarpSize,
                 file, line);
}

void cp_async_issue(void* shared_destination, const void* global_source, int bytes, int source_bytes) {
  EmulatedThread& self = running_thread("cp.async");
  PANS_CHECK(bytes == 4 || bytes == 8 || bytes == 16, "cp.async copies 4, 8 or 16 bytes, not ", bytes);
  PANS_CHECK(source_bytes >= 0 && source_bytes <= bytes, "cp.async source size ", source_bytes, " outside [0, ", bytes,
             "]");
  PANS_CHECK(reinterpret_cast<std::uintptr_t>(shared_destination) % std::uintptr_t(bytes) == 0 &&
                 reinterpret_cast<std::uintptr_t>(global_source) % std::uintptr_t(bytes) == 0,
             "cp.async of ", bytes, " bytes needs ", bytes, "-byte aligned addresses");
  PendingCopy copy{shared_destination, std::vector<unsigned char>(std::size_t(bytes), 0)};
  if (source_bytes > 0) std::memcpy(copy.data.data(), global_source, std::size_t(source_bytes));
  std::memset(shared_destination, 0xFF, std::size_t(bytes));
  self.uncommitted_copies.push_back(std::move(copy));
}

void cp_async_commit_group() {
  EmulatedThread& self = running_thread("cp.async.commit_group");
  self.committed_groups.push_back(std::move(self.uncommitted_copies));
  self.uncommitted_copies.clear();
}

void cp_async_wait_group(int allowed_pending) {
  EmulatedThread& self = running_thread("cp.async.wait_group");
  while (int(self.committed_groups.size()) > allowed_pending) {
    for (const PendingCopy& copy : self.committed_groups.front()) land(copy);
    self.committed_groups.erase(self.committed_groups.begin());
  }
}

void* dynamic_shared_memory() {
  BlockState& state = block();
  return state.dynamic_shared.empty() ? nullptr : state.dynamic_shared.data();
}

void set_max_dynamic_shared_bytes(const void* kernel, std::size_t bytes) {
  PANS_CHECK(bytes <= kMaxSharedBytesOptIn, "set_max_dynamic_shared_bytes: ", bytes, " bytes exceed the device's ",
             kMaxSharedBytesOptIn);
  shared_opt_ins()[kernel] = bytes;
}

std::size_t max_dynamic_shared_bytes(const void* kernel) {
  const auto found = shared_opt_ins().find(kernel);
  return found == shared_opt_ins().end() ? kDefaultSharedBytes : std::max(kDefaultSharedBytes, found->second);
}

}  // namespace pans::emu
