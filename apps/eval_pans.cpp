// eval_pans: anomaly-segmentation results with the CAOS protocol of StreetHazards (docs/metrics.md),
// printed as a table laid out like the paper's Table 1 and optionally written as JSON and as pooled
// ROC / precision-recall curves (SVG).
//
// Mode --checkpoint FILE (repeatable): train_pans checkpoints over a StreetHazards-layout split with
// the paper's multi-scale protocol (eval/split_evaluation.h): every anomaly score the classifier
// supports, and the mIoU of the segmentation.
// Mode --scores DIR --labels DIR: anomaly maps of any method, float32 .npy files (height × width,
// higher = more anomalous) named like their label PNGs (eval/score_folder.h).
//
// The checkpoint mode runs data-parallel under mpirun, srun or torchrun (docs/distributed.md): the
// images are shared among the ranks and rank 0 prints and writes the same results one process
// would.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include "apps/score_flags.h"
#include "config/environment.h"
#include "data/atomic_file.h"
#include "eval/anomaly_table.h"
#include "eval/curves_svg.h"
#include "eval/model_loading.h"
#include "eval/progress.h"
#include "eval/score_folder.h"
#include "eval/split_evaluation.h"
#include "kernels/configuration.h"
#include "tensor/device.h"
#include "tensor/error.h"

namespace {

using namespace pans;

struct Flags {
  std::vector<std::string> checkpoints;
  std::optional<std::string> data, device;
  std::string split = "test";
  std::vector<double> scales;
  std::optional<int> threads;
  int mc_passes = 0;
  bool odin = false;
  double odin_temperature = OdinSettings{}.temperature, odin_epsilon = OdinSettings{}.epsilon;
  std::string dist = "auto";
  std::optional<std::string> scores, labels, name, json, curves;
  std::string suffix;
  bool allow_missing = false;
};

void add_checkpoint_flags(CLI::App& app, Flags& f) {
  app.add_option("--checkpoint", f.checkpoints,
                 "a train_pans checkpoint (checkpoint_<it>.bin) to evaluate: one table row per anomaly score its "
                 "classifier gives (linear: MSP, max logit, energy, entropy; cosine: cosine + softmax, PAnS, entropy; "
                 "both: the MC-Dropout scores with --mc-passes), with the mIoU of its "
                 "segmentation; repeat the flag to put several models in one table");
  app.add_option("--data", f.data,
                 "StreetHazards root holding the split; default: the dataset the checkpoint was trained on (its "
                 "recipe's data folder, whose test split the embedded generator also wrote)");
  app.add_option("--split", f.split, "test (default) or validation")->check(CLI::IsMember({"test", "validation"}));
  app.add_option("--scales", f.scales,
                 "comma-separated factors of each image's size, each side int(side*f) rounded up to a multiple of 8; "
                 "default the paper's five, 300/720,375/720,450/720,525/720,1000/1280 (304x536 ... 568x1000 for "
                 "1280x720); 1 alone: single scale at the image's own size")
      ->delimiter(',');
  app.add_option("--mc-passes", f.mc_passes,
                 "MC-Dropout (the paper's Dropout row): this many stochastic passes of the multi-scale protocol per "
                 "image with the head's dropout active and InPlace-ABN on its running statistics, adding the "
                 "mc_dropout, mc_dropout_variance and mc_dropout_entropy rows; 0 (default): none")
      ->check(CLI::NonNegativeNumber);
  add_odin_flags(app, f.odin, f.odin_temperature, f.odin_epsilon);
  app.add_option("--device", f.device, "cpu, cuda or cuda:N; default cuda when a GPU is usable, else cpu");
  app.add_option("--threads", f.threads, "OpenBLAS threads for the CPU convolutions; default one per core");
  app.add_option("--dist", f.dist,
                 "share the images among the ranks of mpirun, srun or torchrun (docs/distributed.md): single (one "
                 "process), mpi (--device cpu) or nccl (one GPU per rank, cuda:<local rank>); the results are those "
                 "of one process; default auto: single without a launcher, else nccl with a GPU and mpi without")
      ->check(CLI::IsMember({"auto", "single", "mpi", "nccl"}));
}

void add_score_folder_flags(CLI::App& app, Flags& f) {
  CLI::Option* scores = app.add_option(
      "--scores", f.scores,
      "folder of anomaly maps: float32 .npy files (np.save of a height x width float32 array, C order), higher = "
      "more anomalous, found at any depth; each pairs with the label PNG of the same file stem (when several labels "
      "share a stem, e.g. one per town, mirror the label sub-folders)");
  CLI::Option* labels = app.add_option(
      "--labels", f.labels,
      "folder of StreetHazards label PNGs (single-channel 8-bit, class id + 1, 14 = anomaly), found at any depth, "
      "e.g. <root>/test/annotations/test");
  scores->needs(labels);
  labels->needs(scores);
  app.add_option("--suffix", f.suffix,
                 "the end of every score map's file stem after its label's stem, e.g. _anomaly for the "
                 "<stem>_anomaly.npy maps of infer_pans --npy; default none");
  app.add_flag("--allow-missing", f.allow_missing,
               "evaluate the labels that have a score map and list the others; without it a label PNG with no score "
               "map is an error");
  app.add_option("--name", f.name,
                 "--scores mode: the row's name in the table and the JSON; default: the --scores folder's name");
}

void add_output_flags(CLI::App& app, Flags& f) {
  app.add_option("--json", f.json,
                 "write the results as JSON to this file (atomically): per row auroc, aupr, fpr95 in percent, images, "
                 "skipped_images, skipped, pooled_auroc, pooled_aupr; plus the inputs");
  app.add_option("--curves", f.curves,
                 "write roc.svg and precision_recall.svg into this folder: the curves of every pixel pooled over the "
                 "images used, one line per row");
}

// What one mode produces: the table's measured rows and a description of its inputs for the JSON.
struct Evaluation {
  std::vector<AnomalyTableRow> rows;
  nlohmann::json inputs;
};

Evaluation evaluate_score_folder(const Flags& flags) {
  const ScoreFolderPairs found = pair_score_maps(
      {*flags.scores, *flags.labels, flags.suffix, flags.allow_missing ? MissingScores::Skip : MissingScores::Error});
  if (!found.labels_without_scores.empty())
    std::printf("--allow-missing: %zu label PNGs have no score map and are left out (first: %s)\n",
                found.labels_without_scores.size(), found.labels_without_scores.front().c_str());
  std::printf("evaluating %zu score maps in %s against %s\n", found.pairs.size(), flags.scores->c_str(),
              flags.labels->c_str());
  std::fflush(stdout);
  const ProgressStyle style = progress_style_for(stderr);
  ProgressBar progress(std::int64_t(found.pairs.size()), std::cerr, style);
  Evaluation evaluation;
  AnomalyTableRow row;
  row.name = flags.name.value_or(std::filesystem::canonical(*flags.scores).filename().string());
  try {
    row.result = evaluate_score_maps(found.pairs, [&](std::size_t done) { progress.update(std::int64_t(done)); });
  } catch (...) {
    if (style == ProgressStyle::Redraw) std::cerr << '\n';  // the error message gets a line of its own
    throw;
  }
  evaluation.rows.push_back(row);
  evaluation.inputs = {{"mode", "scores"},
                       {"scores", *flags.scores},
                       {"labels", *flags.labels},
                       {"labels_without_scores", found.labels_without_scores}};
  return evaluation;
}

// "<title>", or "<title> (<checkpoint file>)" when another checkpoint already gave a row of that title.
std::string row_name(ScoreKind kind, const std::string& checkpoint, const std::vector<AnomalyTableRow>& rows) {
  const std::string title = score_kind_title(kind);
  const bool taken = std::any_of(rows.begin(), rows.end(), [&](const AnomalyTableRow& r) { return r.name == title; });
  return taken ? title + " (" + checkpoint + ")" : title;
}

std::string describe_factors(const std::vector<double>& factors) {
  std::string text;
  for (const double f : factors) text += (text.empty() ? "" : ", ") + std::to_string(f).substr(0, 6);
  return text;
}

Evaluation evaluate_checkpoints(const Flags& flags, const Implementations& implementations,
                                Communicator& communicator) {
  const Device device = communicator.backend() == CommBackend::Nccl && !flags.device ? communicator.device()
                                                                                     : device_from_flag(flags.device);
  PANS_CHECK(communicator.backend() != CommBackend::Nccl || device == communicator.device(), "--device ", device.str(),
             ": with --dist nccl each rank evaluates on its own GPU, ", communicator.device().str(), " for ",
             communicator.describe());
  const std::vector<double> factors = flags.scales.empty() ? paper_scale_factors() : flags.scales;
  const Split split = flags.split == "test" ? Split::Test : Split::Validation;
  Evaluation evaluation;
  evaluation.inputs = {{"mode", "checkpoint"},
                       {"split", flags.split},
                       {"scale_factors", factors},
                       {"device", device.str()},
                       {"checkpoints", nlohmann::json::array()}};
  if (communicator.world_size() > 1) {
    evaluation.inputs["ranks"] = communicator.world_size();
    std::printf("dist: %d ranks over %s share the images\n", communicator.world_size(),
                comm_backend_name(communicator.backend()).c_str());
  }
  for (const std::string& path : flags.checkpoints) {
    const LoadedModel loaded = load_model(path, device, implementations.normalization);
    const std::string root = flags.data.value_or(loaded.recipe.value("data", std::string()));
    PANS_CHECK(!root.empty(), path, ": its recipe names no dataset; give --data");
    const StreetHazards dataset(root, split);
    const ClassifierKind classifier = loaded.model->config().classifier;
    std::printf(
        "evaluating %s (%s classifier, iteration %lld) on the %s split of %s: %lld images at scale factors "
        "%s on %s\n",
        path.c_str(), classifier_kind_name(classifier), static_cast<long long>(loaded.iteration), flags.split.c_str(),
        root.c_str(), static_cast<long long>(dataset.size()), describe_factors(factors).c_str(), device.str().c_str());
    std::fflush(stdout);
    const ProgressStyle style = progress_style_for(stderr);
    const SplitEvaluation result = [&] {
      try {
        ScoreOptions options;
        options.mc_dropout_passes = flags.mc_passes;
        if (flags.odin) options.odin = OdinSettings{flags.odin_temperature, flags.odin_epsilon};
        return evaluate_split(*loaded.model, dataset, factors, std::cerr, style, communicator, options);
      } catch (...) {
        if (style == ProgressStyle::Redraw) std::cerr << '\n';  // the error message gets a line of its own
        throw;
      }
    }();
    const SegmentationScores segmentation = segmentation_scores(result.confusion);
    std::printf("segmentation of %s (%lld images, %.1f s):\n%s", path.c_str(), static_cast<long long>(result.images),
                result.seconds, format_scores(segmentation).c_str());
    nlohmann::json described = {{"path", path},
                                {"iteration", loaded.iteration},
                                {"classifier", classifier_kind_name(classifier)},
                                {"data", root},
                                {"images", result.images},
                                {"seconds", result.seconds},
                                {"scores", nlohmann::json::object()}};
    for (const auto& [kind, accumulator] : result.anomaly) {
      AnomalyTableRow row;
      row.name = row_name(kind, path, evaluation.rows);
      row.result = accumulator.result();
      if (segmentation.miou13) row.miou13 = 100 * *segmentation.miou13;
      if (segmentation.miou11) row.miou11 = 100 * *segmentation.miou11;
      described["scores"][row.name] = score_kind_definition(kind);
      evaluation.rows.push_back(row);
    }
    evaluation.inputs["checkpoints"].push_back(described);
  }
  return evaluation;
}

void report(const Evaluation& evaluation, const Flags& flags) {
  for (const AnomalyTableRow& row : evaluation.rows)
    if (row.result.skipped_images > 0)
      std::printf("%s: %lld images skipped, they have anomaly pixels only or none (first: %s)\n", row.name.c_str(),
                  static_cast<long long>(row.result.skipped_images), row.result.skipped.front().c_str());
  std::vector<AnomalyTableRow> table = evaluation.rows;
  for (const AnomalyTableRow& reference : paper_table1_rows()) table.push_back(reference);
  std::printf("\n%s", format_anomaly_table(table).c_str());
  if (flags.json) {
    nlohmann::json json = anomaly_json(evaluation.rows);
    json["inputs"] = evaluation.inputs;
    write_file_atomically(*flags.json, json.dump(2) + "\n");
    std::printf("wrote %s\n", flags.json->c_str());
  }
  if (flags.curves) {
    write_curves_svg(*flags.curves, evaluation.rows);
    std::printf("wrote %s/roc.svg and %s/precision_recall.svg\n", flags.curves->c_str(), flags.curves->c_str());
  }
}

int run(const Flags& flags) {
  // One branch per mode; report() prints and writes the rows of either.
  PANS_CHECK(flags.checkpoints.empty() || !flags.scores, "--checkpoint and --scores: give one mode, not both");
  Evaluation evaluation;
  const Implementations implementations = app_implementations(flags.threads);
  configure_kernels(implementations);
  if (!flags.checkpoints.empty()) {
    const std::unique_ptr<Communicator> communicator =
        make_communicator(comm_backend_for_flags(flags.dist, flags.device), implementations.collective_timeout_seconds);
    // Rank 0 speaks and writes for the job; the others' errors still reach stderr.
    if (communicator->rank() != 0)
      PANS_CHECK(std::freopen("/dev/null", "w", stdout) != nullptr, "rank ", communicator->rank(),
                 ": cannot silence stdout");
    evaluation = evaluate_checkpoints(flags, implementations, *communicator);
    if (communicator->rank() != 0) return 0;
  } else if (flags.scores) {
    PANS_CHECK(rank_info_from_environment(launch_environment()).world_size == 1,
               "--scores is evaluated by one process: run eval_pans without a launcher");
    evaluation = evaluate_score_folder(flags);
  } else {
    PANS_FAIL("nothing to evaluate: give --checkpoint FILE, or --scores DIR --labels DIR (see --help)");
  }
  report(evaluation, flags);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{
      "Evaluates anomaly segmentation with the CAOS protocol of StreetHazards (method.md §6): per image over all "
      "pixels, positives = the anomaly class (PNG value 14), AUROC and AUPR as scikit-learn's roc_auc_score and "
      "average_precision_score, FPR95 as Hendrycks' fpr_and_fdr_at_recall(0.95); images with one class only are "
      "skipped and reported; the means over images x 100 are printed as a table laid out like the paper's Table 1, "
      "with the paper's MSP and PAnS rows below for comparison.\n\n"
      "eval_pans --checkpoint FILE [--checkpoint FILE ...] [--data DIR] [--split test|validation] [--scales F,F,...] "
      "[--json FILE] [--curves DIR]: train_pans checkpoints with the paper's multi-scale protocol (method.md §5), "
      "every anomaly score of their classifiers and the mIoU13/mIoU11 of their segmentation.\n\n"
      "eval_pans --scores DIR --labels DIR [--suffix TEXT] [--allow-missing] [--name TEXT] [--json FILE] "
      "[--curves DIR]: anomaly maps of any method as float32 .npy files. Bad input (a score map with no label or of "
      "another size than its label, NaN or Inf, a label PNG that is not single-channel 8-bit, an unreadable .npy) "
      "stops with an error "
      "naming the file and exit status 1."};
  add_checkpoint_flags(app, flags);
  add_score_folder_flags(app, flags);
  add_output_flags(app, flags);
  CLI11_PARSE(app, argc, argv);
  try {
    return run(flags);
  } catch (const std::exception& error) {
    std::fflush(stdout);
    std::fprintf(stderr, "eval_pans: %s\n", error.what());
    return 1;
  }
}
