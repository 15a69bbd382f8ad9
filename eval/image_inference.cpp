#include "eval/image_inference.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>

#include "data/classes.h"
#include "data/png.h"
#include "eval/model_loading.h"
#include "eval/npy.h"

namespace pans {
namespace fs = std::filesystem;
namespace {

bool is_png_name(const fs::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return extension == ".png";
}

// <out>/<the image's folder relative to the input folder>/<stem>: what the outputs' names start with.
fs::path output_prefix(const InferenceRequest& request, const fs::path& image) {
  const fs::path relative =
      fs::is_directory(request.input) ? image.lexically_relative(request.input) : image.filename();
  return fs::path(request.out) / relative.parent_path() / relative.stem();
}

std::string with_suffix(const fs::path& prefix, const std::string& suffix) { return prefix.string() + suffix; }

ScoreKind chosen_score(const InferenceRequest& request, ClassifierKind classifier) {
  const std::vector<ScoreKind> supported = supported_scores(classifier, request.score_options);
  const ScoreKind score = request.score.value_or(default_score(classifier));
  if (std::find(supported.begin(), supported.end(), score) == supported.end()) {
    std::string names;
    for (const ScoreKind kind : supported) names += (names.empty() ? "" : ", ") + std::string(score_kind_name(kind));
    const std::string name = score_kind_name(score);
    const char* hint = name.rfind("mc_dropout", 0) == 0 ? " (the mc_dropout scores need --mc-passes)"
                       : score == ScoreKind::Odin       ? " (odin needs --odin)"
                                                        : "";
    PANS_FAIL("--score ", name, ": ", request.checkpoint, " has a ", classifier_kind_name(classifier),
              " classifier, which gives ", names, hint);
  }
  return score;
}

HeatRange chosen_heat_range(const InferenceRequest& request, ScoreKind score) {
  const HeatRange natural = score_is_bounded(score) ? HeatRange::Fixed : HeatRange::PerImage;
  const HeatRange range = request.heat_range.value_or(natural);
  PANS_CHECK(range == HeatRange::PerImage || score_is_bounded(score), "--heat-range fixed: ", score_kind_name(score),
             " is unbounded; use per-image");
  return range;
}

// The label PNG of each image, in the images' order, found before the model loads: a missing label
// should fail in a second, not after minutes of inference over the images before it.
std::vector<std::string> pair_labels(const std::vector<std::string>& images, const std::string& folder) {
  PANS_CHECK(fs::is_directory(folder), "--labels ", folder, ": no such folder");
  std::map<std::string, std::vector<std::string>> by_stem;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(folder))
    if (entry.is_regular_file() && is_png_name(entry.path()))
      by_stem[entry.path().stem().string()].push_back(entry.path().string());
  PANS_CHECK(!by_stem.empty(), "--labels ", folder, ": the folder holds no .png file");
  std::vector<std::string> labels;
  for (const std::string& image : images) {
    const std::string stem = fs::path(image).stem().string();
    const auto found = by_stem.find(stem);
    if (found == by_stem.end()) PANS_FAIL(image, ": no label ", stem, ".png under --labels ", folder);
    std::vector<std::string> candidates = found->second;
    std::sort(candidates.begin(), candidates.end());
    // Stems are the only key, so two candidates cannot be told apart: refuse rather than guess.
    if (candidates.size() > 1)
      PANS_FAIL(image, ": ", candidates.size(), " labels named ", stem, ".png under --labels ", folder, " (",
                candidates[0], ", ", candidates[1], "); pass a folder that holds one");
    labels.push_back(candidates[0]);
  }
  return labels;
}

// Class ids {H,W,1} of `image`'s label, checked against the image before any inference is spent on it.
Image read_labels(const std::string& label_path, const std::string& image_path, const Image& image) {
  Image ids = read_label_png(label_path);
  if (!ids.same_size(image))
    PANS_FAIL(image_path, ": its label ", label_path, " is ", ids.height, "x", ids.width, " but the image is ",
              image.height, "x", image.width);
  streethazards::decode_label_values(ids, label_path);
  return ids;
}

void write_outputs(const fs::path& prefix, const Image& image, const MultiScaleResult& result, ScoreKind score,
                   HeatRange range, bool write_npy, const Image* labels) {
  fs::create_directories(prefix.parent_path());
  const Tensor& scores = result.scores(score);
  const Image heat = heat_map(scores, range);
  write_png(with_suffix(prefix, "_segmentation.png"), colorize_segmentation(result.segmentation));
  if (labels) write_png(with_suffix(prefix, "_labels.png"), colorize_labels(*labels));
  write_png(with_suffix(prefix, "_anomaly.png"), heat);
  write_png(with_suffix(prefix, "_overlay.png"), overlay(image, heat));
  if (write_npy)
    write_npy_matrix(with_suffix(prefix, "_anomaly.npy"), {scores.dim(0), scores.dim(1), scores.to_vector<float>()});
}

}  // namespace

std::vector<std::string> input_images(const std::string& input) {
  PANS_CHECK(fs::exists(input), "--input ", input, ": no such file or folder");
  if (!fs::is_directory(input)) {
    PANS_CHECK(is_png_name(input), "--input ", input, ": not a .png file");
    return {input};
  }
  std::vector<std::string> images;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(input))
    if (entry.is_regular_file() && is_png_name(entry.path())) images.push_back(entry.path().string());
  PANS_CHECK(!images.empty(), "--input ", input, ": the folder holds no .png file");
  std::sort(images.begin(), images.end());
  return images;
}

InferenceSummary run_inference(const InferenceRequest& request, std::ostream& console, ProgressStyle style) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<std::string> images = input_images(request.input);
  const std::vector<std::string> labels =
      request.labels ? pair_labels(images, *request.labels) : std::vector<std::string>{};
  const LoadedModel loaded = load_model(request.checkpoint, request.device, request.normalization);
  const ClassifierKind classifier = loaded.model->config().classifier;
  InferenceSummary summary;
  summary.score = chosen_score(request, classifier);
  const HeatRange range = chosen_heat_range(request, summary.score);
  console << "model: " << request.checkpoint << " (iteration " << loaded.iteration << ", "
          << classifier_kind_name(classifier) << " classifier) on " << request.device.str() << "\n"
          << "score: " << score_kind_definition(summary.score) << "; heat map range "
          << (range == HeatRange::Fixed ? "[0, 1]" : "per image (min to max)") << "\n"
          << "scales: " << request.scale_factors.size() << " factor(s) of each image's size:";
  for (const double factor : request.scale_factors) console << " " << factor;
  if (request.labels) console << "\nlabels: " << *request.labels;
  console << "\n" << images.size() << " image(s) -> " << request.out << "\n";
  console.flush();

  ProgressBar bar(std::int64_t(images.size()), console, style);
  for (std::size_t i = 0; i < images.size(); ++i) {
    const std::string& path = images[i];
    try {
      const Image image = read_rgb_png(path);
      const std::optional<Image> label =
          request.labels ? std::optional<Image>(read_labels(labels[i], path, image)) : std::nullopt;
      const MultiScaleResult result =
          evaluate_multiscale(*loaded.model, image, test_input_sizes(image.height, image.width, request.scale_factors),
                              request.score_options, mc_dropout_image_key(path));
      write_outputs(output_prefix(request, path), image, result, summary.score, range, request.write_npy,
                    label ? &*label : nullptr);
    } catch (const Error& error) {
      const std::string message = error.what();
      if (message.rfind(path, 0) == 0) throw;  // PNG errors already start with the path
      throw Error(path + ": " + message);
    }
    bar.update(++summary.images);
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace pans
