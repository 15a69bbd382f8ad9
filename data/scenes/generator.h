// The embedded default dataset: procedural street scenes written to disk in the StreetHazards
// layout and label encoding, so the real reader and loader consume them unchanged.
//
//   <root>/train/images/training/t1..t3/NNNNN.png     <root>/train/annotations/training/...
//   <root>/train/images/validation/t4/NNNNN.png       <root>/train/annotations/validation/...
//   <root>/test/images/test/t5..t6/NNNNN.png          <root>/test/annotations/test/...
//   <root>/pans_scenes.json                           the manifest: generator version and config
#pragma once

#include <string>

#include "data/scenes/scene_config.h"

namespace pans::scenes {

// Bumped whenever the generator's output changes, so cached datasets are regenerated.
constexpr int kGeneratorVersion = 1;
constexpr const char* kManifestName = "pans_scenes.json";

// The manifest's text for `config`.
std::string scene_manifest(const SceneConfig& config);

// Renders every image of every split into `folder` (created if needed) with `threads` threads
// (0: one per core), then writes the manifest last. The bytes do not depend on `threads`.
void write_scenes(const std::string& folder, const SceneConfig& config, int threads = 0);

// Makes sure `root` holds the dataset of `config`: returns false at once when its manifest says so;
// otherwise generates into a temporary sibling folder and swaps it in with renames, so an
// interrupted run never leaves a half-written dataset at `root`. A `root` that holds anything but
// a generated dataset (no manifest) is refused with pans::Error, never overwritten. Safe when
// several processes (ranks) call it at once: the first to finish wins, the others keep its copy.
bool generate_if_missing(const std::string& root, const SceneConfig& config, int threads = 0);

}  // namespace pans::scenes
