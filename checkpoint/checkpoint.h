// Training checkpoints, written the llm.c way: complete or ignored.
//
// <out>/checkpoint_<iteration, 8 digits>.bin holds, little-endian:
//   8 bytes  magic "PANSCKPT"
//   u32      format version (kCheckpointVersion)
//   u64      length of the JSON header that follows
//   header   {"iteration", "config" (the recipe), "ranks", "tensors": [{"name", "shape"}...],
//             "payload_bytes", "payload_fnv1a64"}
//   payload  every tensor's float32 values in header order, row-major
// It is written to a temporary file, fsynced and renamed into place (data/atomic_file.h: a crash or
// a full disk leaves the old state or the new one, never a torn file); then an empty <out>/DONE_<iteration> marks it
// complete. Resuming takes the highest iteration with a marker. Reading checks the magic, version, sizes and checksum,
// so a truncated or damaged file is an error naming it, never silently loaded.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace pans {

constexpr std::uint32_t kCheckpointVersion = 1;

struct NamedTensor {
  std::string name;
  Tensor value;  // float32, any device
};

struct Checkpoint {
  std::int64_t iteration = 0;  // iterations completed
  nlohmann::json config;       // the recipe that produced it
  std::vector<NamedTensor> tensors;
  // The world size of the run that wrote it. Not part of the recipe: a run may resume with another
  // (train/trainer.h); it is kept to name both world sizes when a resume is refused.
  int ranks = 1;
};

std::string checkpoint_path(const std::string& folder, std::int64_t iteration);
std::string done_marker_path(const std::string& folder, std::int64_t iteration);

// Writes the checkpoint of `checkpoint.iteration` into `folder`, then its DONE marker.
void write_checkpoint(const std::string& folder, const Checkpoint& checkpoint);
// Reads and verifies a checkpoint file; its tensors come back on the CPU. Throws pans::Error naming
// the file when it is missing, truncated, of another format or version, or fails its checksum.
Checkpoint read_checkpoint(const std::string& path);

// Whether a file name in a run's folder is a checkpoint, its temporary or a DONE marker.
bool is_checkpoint_file_name(const std::string& name);

// Deletes the temporaries of checkpoint and DONE marker writes that never finished (a process
// killed mid-write);
// returns how many. Only for a folder no other process is writing to.
int remove_checkpoint_temporaries(const std::string& folder);

// The iterations of the complete checkpoints in `folder` (those with a DONE marker), ascending.
std::vector<std::int64_t> complete_checkpoints(const std::string& folder);
// Deletes all complete checkpoints but the newest `keep` (marker first, so a crash in between leaves
// an incomplete checkpoint, which resuming ignores).
void remove_old_checkpoints(const std::string& folder, int keep);

// Copies the checkpoint's tensors into `destinations` (e.g. the model's parameters), matching by
// name; every destination must be present with its shape. Throws naming `path` otherwise.
void restore_tensors(const Checkpoint& checkpoint, const std::vector<NamedTensor>& destinations,
                     const std::string& path);

}  // namespace pans
