#include "eval/split_evaluation.h"

#include <chrono>
#include <future>
#include <optional>

#include "data/pipelines.h"
#include "dist/count_sum.h"

namespace pans {
namespace {

// A rank's record of one round: 1 if it had an image, then per score kind whether the image was used
// and its AUROC, AP, FPR95, lowest and highest score (floats and doubles travel exactly as float64).
constexpr std::size_t kFieldsPerKind = 6;

void encode(const ImageAnomalySummary& summary, double* fields) {
  fields[0] = summary.metrics.has_value();
  if (!summary.metrics) return;
  fields[1] = summary.metrics->auroc;
  fields[2] = summary.metrics->average_precision;
  fields[3] = summary.metrics->fpr95;
  fields[4] = summary.low;
  fields[5] = summary.high;
}

ImageAnomalySummary decode(const double* fields) {
  ImageAnomalySummary summary;
  if (fields[0] == 0) return summary;
  summary.metrics = ImageAnomalyMetrics{fields[1], fields[2], fields[3]};
  summary.low = float(fields[4]);
  summary.high = float(fields[5]);
  return summary;
}

std::vector<double> all_gather(const std::vector<double>& record, Communicator& communicator) {
  const Tensor local = Tensor::from_vector(record, {std::int64_t(record.size())}).to(communicator.device());
  Tensor gathered =
      Tensor::empty({std::int64_t(record.size()) * communicator.world_size()}, DType::F64, communicator.device());
  communicator.all_gather(local, gathered);
  return gathered.to(Device::cpu()).to_vector<double>();
}

// This rank's image of a round, evaluated.
struct EvaluatedImage {
  MultiScaleResult result;
  Tensor labels;  // uint8 {H,W}
};

}  // namespace

SplitEvaluation evaluate_split(PspNet& model, const StreetHazards& dataset, const std::vector<double>& scale_factors,
                               std::ostream& progress, ProgressStyle style, const ScoreOptions& options) {
  const std::unique_ptr<Communicator> alone = make_single_process_communicator();
  return evaluate_split(model, dataset, scale_factors, progress, style, *alone, options);
}

SplitEvaluation evaluate_split(PspNet& model, const StreetHazards& dataset, const std::vector<double>& scale_factors,
                               std::ostream& progress, ProgressStyle style, Communicator& communicator,
                               const ScoreOptions& options) {
  PANS_CHECK(dataset.size() > 0, "evaluate_split: the split holds no image");
  const auto start = std::chrono::steady_clock::now();
  SplitEvaluation evaluation{ConfusionMatrix(int(model.config().classes)), {}};
  for (const ScoreKind kind : supported_scores(model.config().classifier, options))
    evaluation.anomaly.push_back({kind, {}});
  const std::int64_t ranks = communicator.world_size(), rank = communicator.rank(), images = dataset.size();
  const std::size_t record_size = 1 + kFieldsPerKind * evaluation.anomaly.size();
  std::optional<ProgressBar> bar;
  if (rank == 0) bar.emplace(images, progress, style);
  const auto load = [&dataset](std::int64_t index) { return dataset.load(index); };
  std::future<LabeledImage> next;
  if (rank < images) next = std::async(std::launch::async, load, rank);
  // Every rank takes part in every round, also in a last one that has no image for it.
  for (std::int64_t first = 0; first < images; first += ranks) {
    const std::int64_t index = first + rank;
    std::vector<double> record(record_size, 0.0);
    std::optional<EvaluatedImage> mine;
    if (index < images) {
      const LabeledImage sample = next.get();
      if (index + ranks < images) next = std::async(std::launch::async, load, index + ranks);
      mine =
          EvaluatedImage{evaluate_multiscale(model, sample.image,
                                             test_input_sizes(sample.image.height, sample.image.width, scale_factors),
                                             options, mc_dropout_image_key(dataset.paths(index).image)),
                         label_tensor(sample.label)};
      const Tensor& labels = mine->labels;
      evaluation.confusion.add_predictions(
          mine->result.probabilities.reshape({1, labels.dim(0), labels.dim(1), mine->result.probabilities.dim(2)}),
          labels.reshape({1, labels.dim(0), labels.dim(1)}));
      record[0] = 1;
      for (std::size_t k = 0; k < evaluation.anomaly.size(); ++k)
        encode(summarize_image(mine->result.scores(evaluation.anomaly[k].first).data<float>(),
                               labels.data<std::uint8_t>(), labels.numel(), dataset.paths(index).image),
               &record[1 + kFieldsPerKind * k]);
    }
    const std::vector<double> records = all_gather(record, communicator);
    for (std::int64_t r = 0; r < ranks; ++r) {
      const double* from = &records[std::size_t(r) * record_size];
      if (from[0] == 0) continue;
      for (std::size_t k = 0; k < evaluation.anomaly.size(); ++k) {
        auto& [kind, accumulator] = evaluation.anomaly[k];
        const ImageAnomalySummary summary = decode(from + 1 + kFieldsPerKind * k);
        accumulator.add_summary(summary, dataset.paths(first + r).image);
        if (r == rank && summary.metrics)
          accumulator.add_pixels(mine->result.scores(kind).data<float>(), mine->labels.data<std::uint8_t>(),
                                 mine->labels.numel());
      }
      ++evaluation.images;
    }
    if (bar) bar->update(evaluation.images);
  }
  evaluation.confusion.sum_over_ranks(communicator);
  for (auto& [kind, accumulator] : evaluation.anomaly) {
    std::vector<std::int64_t> counts = accumulator.pooled_counts();
    sum_counts_over_ranks(counts, communicator, "pooled score histogram");
    accumulator.set_pooled_counts(counts);
  }
  evaluation.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return evaluation;
}

}  // namespace pans
