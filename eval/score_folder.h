// eval_pans --scores DIR --labels DIR: anomaly maps of any method, as float32 .npy files of the
// label's height × width, against StreetHazards label PNGs, each found recursively under its folder.
// A score map and a label pair up by file stem (scores/.../00042.npy with labels/.../00042.png, or
// with a suffix, 00042_anomaly.npy); when several labels share a stem (one per town), the score maps
// must mirror the label sub-folders.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "eval/anomaly_metrics.h"

namespace pans {

struct ScoreLabelPair {
  std::string scores, label;  // paths
};

// What to do with a label PNG that has no score map.
enum class MissingScores { Error, Skip };

struct ScoreFolderPairs {
  std::vector<ScoreLabelPair> pairs;               // in the sorted order of the label paths
  std::vector<std::string> labels_without_scores;  // MissingScores::Skip only
};

struct ScoreFolderLayout {
  std::string scores, labels;  // the folders
  // What a score map's stem has after its label's stem: "" for 00042.npy, "_anomaly" for the
  // 00042_anomaly.npy of infer_pans --npy.
  std::string suffix;
  MissingScores missing = MissingScores::Error;
};

// Throws pans::Error naming the file for: a score map with no label or without the suffix, two
// score maps for one label, an ambiguous stem, and (MissingScores::Error) a label with no score map.
ScoreFolderPairs pair_score_maps(const ScoreFolderLayout& layout);

// Reads, checks and accumulates the pairs in order; `progress(done)` is called after each image.
// Throws pans::Error naming the file for an unreadable or malformed .npy, a label PNG that is not
// single-channel 8-bit or holds a value above 14, a score map whose size differs from its label's,
// and a NaN or infinite score.
AnomalyResult evaluate_score_maps(const std::vector<ScoreLabelPair>& pairs,
                                  const std::function<void(std::size_t done)>& progress);

}  // namespace pans
