// The SIMT emulator's engine: runs a kernel's CUDA threads on one host thread as fibers (ucontext).
//
// Blocks run one after another. Inside a block, every CUDA thread is a fiber that runs until it
// reaches a barrier (__syncthreads, or a warp collective such as __shfl_sync) or returns; the
// scheduler then resumes the next one. The order in which the threads of a block run between
// barriers is shuffled from a seed, so a kernel that forgets a __syncthreads reads stale or
// poisoned shared memory and fails its parity test instead of passing by luck. Schedules:
//   PANS_EMU_SCHEDULE = shuffled (default) | forward | reverse;   PANS_EMU_SEED = <integer>.
// Everything is deterministic for a given schedule and seed; a failure message names both.
//
// Checked as CUDA would fail (pans::Error naming the kernel): more than 1024 threads per block,
// block or grid dimensions out of range, zero-size grids and blocks, dynamic shared memory above
// 48 KiB without opt-in or above the device's 227 KiB. Checked because CUDA leaves them undefined:
// __syncthreads reached from different lines, a thread returning while others wait at a barrier,
// warp collectives with different intrinsics, masks or lines across lanes, partial-warp masks.
//
// Not emulated (docs/simt_emulator.md#what-it-does-not-emulate): timing, the memory model of the GPU,
// races between blocks, warp-divergent execution within one collective.
#pragma once

#include <vector_types.h>

#include <cstddef>
#include <cstdint>
#include <functional>

namespace pans::emu {

constexpr std::size_t kDefaultSharedBytes = 48 * 1024;
constexpr std::size_t kMaxSharedBytesOptIn = 227 * 1024;  // sm_90

struct LaunchConfig {
  const char* kernel_name;
  dim3 grid, block;
  std::size_t dynamic_shared_bytes;
  std::size_t max_dynamic_shared_bytes;  // kDefaultSharedBytes unless the kernel opted in
};

// Runs thread_body once per CUDA thread of the grid, with the built-ins set; rethrows the first
// error of any emulated thread as pans::Error naming the kernel, block, thread and schedule.
void run_grid(const LaunchConfig& config, const std::function<void()>& thread_body);

// Device-side services for the intrinsics of kernels/emu/simt.h, called by the running thread.
void block_barrier(const char* file, int line);

enum class WarpOp { Sync, ShuffleIndex, ShuffleUp, ShuffleDown, ShuffleXor, Ballot, Any, All, Exchange };
// Every lane deposits `value`; once the whole warp has arrived, each lane gets its result:
// the source lane's value for shuffles, the vote for Ballot/Any/All. `lane_argument` is the source
// lane, delta or xor mask; `width` the shuffle segment.
std::uint64_t warp_collective(WarpOp op, unsigned mask, std::uint64_t value, int lane_argument, int width,
                              const char* file, int line);

// A warp-wide operation on larger per-lane operands (tensor-core fragments, ldmatrix addresses):
// every lane passes a pointer to its own operands-and-results record and parks; the last lane to
// arrive calls resolve(payloads, lanes) with every lane's pointer (the parked lanes' records are
// alive on their stacks), which reads all operands and writes all results; then every lane goes on.
using WarpResolver = void (*)(void* const* payloads, int lanes);
void warp_exchange(WarpResolver resolve, void* payload, const char* file, int line);

// cp.async for the emulator, per emulated thread. An issued copy reads its source at once but
// lands in shared memory only when a wait_group releases its group, and the destination holds
// 0xFF bytes until then, so a kernel that reads a stage before waiting for it sees NaN. Groups still
// pending when a thread returns are an error.
void cp_async_issue(void* shared_destination, const void* global_source, int bytes, int source_bytes);
void cp_async_commit_group();
void cp_async_wait_group(int allowed_pending);

// The launch's dynamic shared memory, filled with 0xFF bytes (NaN as float) before every block.
void* dynamic_shared_memory();

// Registers that `kernel` may use up to `bytes` of dynamic shared memory (cudaFuncSetAttribute).
void set_max_dynamic_shared_bytes(const void* kernel, std::size_t bytes);
std::size_t max_dynamic_shared_bytes(const void* kernel);

}  // namespace pans::emu
