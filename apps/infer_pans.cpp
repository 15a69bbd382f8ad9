// infer_pans: a train_pans checkpoint over one image or a folder of images, with the paper's
// multi-scale test protocol (docs/method.md#5-test-time-protocol-and-anomaly-scores): per image a
// segmentation PNG in the StreetHazards palette, the anomaly map as a heat map, an overlay, and
// optionally the raw map as .npy (eval/image_inference.h says what each file holds).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <optional>

#include "apps/score_flags.h"
#include "config/environment.h"
#include "eval/image_inference.h"
#include "kernels/configuration.h"
#include "tensor/device.h"

namespace {

using namespace pans;

struct Flags {
  std::string checkpoint, input, out = "infer_pans";
  std::vector<double> scales;
  std::optional<std::string> score, heat_range, device, labels;
  std::optional<int> threads;
  int mc_passes = 0;
  bool odin = false;
  double odin_temperature = OdinSettings{}.temperature, odin_epsilon = OdinSettings{}.epsilon;
  bool npy = false;
};

InferenceRequest request_from(const Flags& f) {
  InferenceRequest request;
  request.checkpoint = f.checkpoint;
  request.input = f.input;
  request.out = f.out;
  if (!f.scales.empty()) request.scale_factors = f.scales;
  request.score_options.mc_dropout_passes = f.mc_passes;
  if (f.odin) request.score_options.odin = OdinSettings{f.odin_temperature, f.odin_epsilon};
  if (f.score) request.score = parse_score_kind(*f.score);
  if (f.heat_range) request.heat_range = *f.heat_range == "fixed" ? HeatRange::Fixed : HeatRange::PerImage;
  request.write_npy = f.npy;
  request.labels = f.labels;
  request.device = device_from_flag(f.device);
  return request;
}

int run(const Flags& flags) {
  const Implementations implementations = app_implementations(flags.threads);
  configure_kernels(implementations);
  InferenceRequest request = request_from(flags);
  request.normalization = implementations.normalization;
  const InferenceSummary summary = run_inference(request, std::cout, progress_style_for(stdout));
  std::printf("infer_pans: %lld image(s) in %.1f s, outputs in %s\n", static_cast<long long>(summary.images),
              summary.seconds, flags.out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{
      "Runs a train_pans checkpoint over a PNG image or a folder of PNGs (searched recursively) with the paper's "
      "multi-scale test protocol, and writes per image, into --out (keeping the input's sub-folders): "
      "<stem>_segmentation.png (StreetHazards palette), <stem>_anomaly.png (the anomaly score as an inferno heat "
      "map, brighter = more anomalous), <stem>_overlay.png (the image blended with the heat map); with --npy "
      "<stem>_anomaly.npy (the raw float32 score map); with --labels <stem>_labels.png (the ground truth in the "
      "same palette). Every file is written to a temporary name and renamed."};
  app.add_option("--checkpoint", flags.checkpoint, "a train_pans checkpoint (checkpoint_<it>.bin)")->required();
  app.add_option("--input", flags.input, "a PNG image, or a folder searched recursively for *.png")->required();
  app.add_option("--out", flags.out, "output folder, created when missing; default " + flags.out);
  app.add_option("--scales", flags.scales,
                 "comma-separated factors of each image's size, each side int(side*f) rounded up to a multiple of 8; "
                 "default the paper's five, 300/720,375/720,450/720,525/720,1000/1280 (304x536 ... 568x1000 for "
                 "1280x720); 1 alone: single scale at the image's own size")
      ->delimiter(',');
  app.add_option("--score", flags.score,
                 "the anomaly score drawn: msp, max_logit or energy (linear classifier), cosine_softmax or pans "
                 "(cosine classifier), entropy or, with --mc-passes, mc_dropout, mc_dropout_variance, "
                 "mc_dropout_entropy, or with --odin, odin (both); default pans for cosine, msp for linear")
      ->check(CLI::IsMember({"msp", "max_logit", "energy", "cosine_softmax", "pans", "entropy", "mc_dropout",
                             "mc_dropout_variance", "mc_dropout_entropy", "odin"}));
  add_odin_flags(app, flags.odin, flags.odin_temperature, flags.odin_epsilon);
  app.add_option("--mc-passes", flags.mc_passes,
                 "MC-Dropout's stochastic passes per image (the mc_dropout scores); 0 (default): none")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--heat-range", flags.heat_range,
                 "fixed: scores 0..1 span the colour ramp, comparable across images (default for msp, "
                 "cosine_softmax, pans, entropy); per-image: each map's min..max (default, and the only choice, for "
                 "max_logit and energy)")
      ->check(CLI::IsMember({"fixed", "per-image"}));
  app.add_option("--labels", flags.labels,
                 "a folder searched recursively for StreetHazards label PNGs, each paired with the input image of "
                 "the same file stem (e.g. <root>/test/annotations/test); also writes <stem>_labels.png, the ground "
                 "truth in the segmentation's palette with anomalies in the anomaly colour and ignore in black");
  app.add_flag("--npy", flags.npy, "also write the raw anomaly map as <stem>_anomaly.npy (float32, H x W)");
  app.add_option("--device", flags.device, "cpu, cuda or cuda:N; default cuda when a GPU is usable, else cpu");
  app.add_option("--threads", flags.threads, "OpenBLAS threads for the CPU convolutions; default one per core");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(flags);
  } catch (const std::exception& error) {
    if (progress_style_for(stdout) == ProgressStyle::Redraw) std::printf("\n");  // end a progress bar's line
    std::fflush(stdout);
    std::fprintf(stderr, "infer_pans: %s\n", error.what());
    return 1;
  }
}
