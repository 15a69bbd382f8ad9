#include "eval/split_evaluation.h"

#include <chrono>
#include <future>

#include "data/pipelines.h"

namespace pans {

SplitEvaluation evaluate_split(PspNet& model, const StreetHazards& dataset, const std::vector<double>& scale_factors,
                               std::ostream& progress, ProgressStyle style) {
  PANS_CHECK(dataset.size() > 0, "evaluate_split: the split holds no image");
  const auto start = std::chrono::steady_clock::now();
  SplitEvaluation evaluation{ConfusionMatrix(int(model.config().classes)), {}};
  for (const ScoreKind kind : supported_scores(model.config().classifier)) evaluation.anomaly.push_back({kind, {}});
  ProgressBar bar(dataset.size(), progress, style);
  const auto load = [&dataset](std::int64_t index) { return dataset.load(index); };
  std::future<LabeledImage> next = std::async(std::launch::async, load, 0);
  for (std::int64_t index = 0; index < dataset.size(); ++index) {
    const LabeledImage sample = next.get();
    if (index + 1 < dataset.size()) next = std::async(std::launch::async, load, index + 1);
    const std::string& name = dataset.paths(index).image;
    const MultiScaleResult result = evaluate_multiscale(
        model, sample.image, test_input_sizes(sample.image.height, sample.image.width, scale_factors));
    const Tensor labels = label_tensor(sample.label);
    evaluation.confusion.add_predictions(
        result.probabilities.reshape({1, labels.dim(0), labels.dim(1), result.probabilities.dim(2)}),
        labels.reshape({1, labels.dim(0), labels.dim(1)}));
    for (auto& [kind, accumulator] : evaluation.anomaly)
      accumulator.add_image(result.scores(kind).data<float>(), labels.data<std::uint8_t>(), labels.numel(), name);
    ++evaluation.images;
    bar.update(evaluation.images);
  }
  evaluation.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return evaluation;
}

}  // namespace pans
