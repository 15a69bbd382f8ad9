// What infer_pans does, as a library function (so tests can call it): a checkpoint over one PNG or
// a folder of PNGs, writing per image, atomically (temporary file + rename):
//   <stem>_segmentation.png  the argmax of the scale-averaged softmax, StreetHazards palette
//   <stem>_anomaly.png       the chosen anomaly score as an inferno heat map (eval/visualize.h)
//   <stem>_overlay.png       the image blended half and half with that heat map
//   <stem>_anomaly.npy       the raw score map, float32 {H,W} (on request)
//   <stem>_labels.png        the ground truth in the same palette (when a labels folder is given;
//                            anomaly in the anomaly colour, ignore black: eval/visualize.h)
// all at the input image's resolution. A folder's images keep their sub-folders under the output
// folder, so equal stems in different sub-folders do not collide.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "eval/multiscale.h"
#include "eval/progress.h"
#include "eval/visualize.h"
#include "tensor/device.h"

namespace pans {

struct InferenceRequest {
  std::string checkpoint;  // a train_pans checkpoint
  std::string input;       // a PNG file, or a folder searched recursively for *.png
  std::string out;         // created when missing
  std::vector<double> scale_factors = paper_scale_factors();
  std::optional<ScoreKind> score;       // unset: default_score(the checkpoint's classifier)
  std::optional<HeatRange> heat_range;  // unset: Fixed for scores in [0, 1], PerImage for max logit
  bool write_npy = false;
  Device device = Device::cpu();
  NormImplementation normalization = NormImplementation::Native;  // of CUDA layers (layers/norm_activation.h)
  ScoreOptions score_options;  // the mc_dropout scores need passes, odin its settings
  // A folder searched recursively for StreetHazards label PNGs (PNG value = class id + 1), each paired
  // with the input image of the same file stem: figures show the ground truth next to the maps.
  std::optional<std::string> labels;
};

// The PNG files `input` names, sorted: itself, or every *.png (any letter case) below it. Throws
// pans::Error naming `input` when it does not exist, is not a PNG, or is a folder with none.
std::vector<std::string> input_images(const std::string& input);

struct InferenceSummary {
  std::int64_t images = 0;
  ScoreKind score = ScoreKind::Pans;
  double seconds = 0;
};

// Throws pans::Error naming the file at fault (checkpoint, image) or the setting that does not fit
// the checkpoint (a score its classifier does not give, a fixed range for max logit). With labels:
// an image with no label of its stem (or several) is named before any inference runs; a label of
// another size than its image names both files.
InferenceSummary run_inference(const InferenceRequest& request, std::ostream& console, ProgressStyle style);

}  // namespace pans
