#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "checkpoint/checkpoint.h"
#include "checkpoint/model_state.h"
#include "checkpoint/recipe.h"
#include "data/classes.h"
#include "data/loader.h"
#include "data/pipelines.h"
#include "dist/agreement.h"
#include "dist/gradient_averager.h"
#include "dist/synchronized_batch_statistics.h"
#include "kernels/cross_entropy.h"
#include "kernels/nonfinite.h"
#include "metrics/duration.h"
#include "models/pspnet.h"
#include "optim/poly_lr.h"
#include "optim/sgd.h"
#include "train/metrics_log.h"
#include "train/validation.h"

namespace pans {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kMetricsFile = "metrics.jsonl";
constexpr int kPrefetchBatches = 4;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string printf_string(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

// A fresh run never writes into the folder of another one that got as far as a checkpoint
// (complete or not, or its DONE marker). A metrics log alone is what a run leaves that stopped
// before its first checkpoint (a bad file, a failure in its first iterations): there is nothing to
// continue, so the fresh run replaces that log rather than refusing to start until someone cleans
// up. Returns whether it did.
bool refuse_existing_run(const std::string& out) {
  for (const fs::directory_entry& entry : fs::directory_iterator(out)) {
    const std::string name = entry.path().filename().string();
    PANS_CHECK(!is_checkpoint_file_name(name), "--out ", out, " already holds a training run (", entry.path().string(),
               "); pass --resume to continue it, or choose another --out");
  }
  return fs::remove(fs::path(out) / kMetricsFile);
}

struct LossSums {
  double main = 0, deep_supervision = 0;
  std::int64_t count = 0;
};

// "1 rank", "2 ranks".
std::string ranks_text(int ranks) { return std::to_string(ranks) + (ranks == 1 ? " rank" : " ranks"); }

// A console for the ranks other than 0: they train silently.
class DiscardingStream : public std::ostream {
 public:
  DiscardingStream() : std::ostream(nullptr) {}
};

class TrainingRun {
 public:
  TrainingRun(const TrainConfig& config, std::ostream& console, Communicator& communicator)
      : config_(config),
        communicator_(communicator),
        data_parallel_(communicator.world_size() > 1),
        leader_(communicator.rank() == 0),
        console_(leader_ ? console : discarded_),
        training_(std::make_shared<const StreetHazards>(config.data_root, Split::Training)),
        validation_(std::make_shared<const StreetHazards>(config.data_root, Split::Validation)),
        sampler_(training_->size(), SampleOrder::Shuffled, config.seed, communicator.rank(), communicator.world_size()),
        iterations_(total_iterations(config, training_->size(), communicator.world_size())),
        batches_per_epoch_(sampler_.shard_size() / config.batch),
        recipe_(recipe_json(config, communicator.world_size(), iterations_)),
        batch_statistics_(communicator),
        model_(config.model, {DType::F32, config.device, config.seed, data_parallel_ ? &batch_statistics_ : nullptr,
                              config.implementations.normalization}),
        parameters_(model_.parameters()),
        optimizer_(config.momentum, config.weight_decay),
        schedule_(config.lr, iterations_, config.lr_power) {
    for (const Parameter& p : parameters_) {
      optimizer_.add(p.value, p.grad);
      gradients_.push_back({p.name + " (gradient)", p.grad});
    }
    state_ = training_state_tensors(model_, optimizer_);
    if (data_parallel_) gradient_averager_ = std::make_unique<GradientAverager>(communicator_, parameters_);
  }

  TrainSummary run() {
    check_data_files();
    fs::create_directories(config_.out);
    const std::string resumed_from = start();
    // Every rank has looked at --out before rank 0 writes into it, and every rank runs the same
    // recipe from the same iteration.
    check_ranks_agree(communicator_, configuration_hash(recipe_.dump() + "@" + std::to_string(iteration_)));
    const std::int64_t stop = std::min(iterations_, config_.stop_after.value_or(iterations_));
    print_start(stop);
    if (leader_) {
      log_ = std::make_unique<MetricsLog>((fs::path(config_.out) / kMetricsFile).string());
      log_->write({{"type", "start"},
                   {"iteration", iteration_},
                   {"resumed_from", resumed_from.empty() ? nlohmann::json() : nlohmann::json(resumed_from)},
                   {"init", config_.init && resumed_from.empty() ? nlohmann::json(*config_.init) : nlohmann::json()},
                   {"device", config_.device.str()},
                   {"ranks", communicator_.world_size()},
                   {"parameters", model_.parameter_count()},
                   {"recipe", recipe_}});
    }
    if (iteration_ >= stop) {
      console_ << "nothing to train: the checkpoint is at iteration " << iteration_ << " of " << iterations_ << "\n";
      return summary();
    }
    BatchLoader loader(sampler_, training_samples(training_, config_.augment, config_.seed),
                       {config_.batch, config_.workers, kPrefetchBatches, LastBatch::Drop}, iteration_,
                       stop - iteration_);
    session_start_iteration_ = iteration_;
    session_start_ = interval_start_ = Clock::now();
    while (std::optional<Batch> batch = loader.next()) {
      step(*batch);
      if (iteration_ % config_.log_every == 0 || iteration_ == stop) log_progress(stop);
      if (iteration_ % config_.checkpoint_every == 0 || iteration_ == stop) save_checkpoint();
      if (validation_due(iteration_)) validate();
    }
    return summary();
  }

 private:
  // Restores the latest complete checkpoint when resuming; returns its path, or "" for a fresh start.
  std::string start() {
    if (leader_) {
      const int temporaries = remove_checkpoint_temporaries(config_.out);
      if (temporaries > 0)
        console_ << "removed " << temporaries << " temporary file(s) of a checkpoint write that never finished in "
                 << config_.out << "\n";
    }
    if (config_.start == StartFrom::Scratch) {
      if (leader_ && refuse_existing_run(config_.out))
        console_ << "replacing the metrics log of a run in " << config_.out << " that stopped before its first "
                 << "checkpoint\n";
      initialise_from_file();
      return "";
    }
    const std::vector<std::int64_t> done = complete_checkpoints(config_.out);
    if (done.empty()) {
      console_ << "--resume: no complete checkpoint in " << config_.out << ", starting from iteration 0\n";
      initialise_from_file();
      return "";
    }
    if (config_.init) console_ << "--init " << *config_.init << ": not used, the run resumes from its checkpoint\n";
    const std::string path = checkpoint_path(config_.out, done.back());
    const Checkpoint checkpoint = read_checkpoint(path);
    check_same_global_batch(checkpoint, path);
    const std::string differences = recipe_differences(checkpoint.config, recipe_);
    PANS_CHECK(differences.empty(), path, " was written by another recipe (", differences,
               "); resume with the flags of that run, or choose another --out");
    PANS_CHECK(checkpoint.iteration == done.back() && checkpoint.iteration <= iterations_, path, ": holds iteration ",
               checkpoint.iteration, ", expected ", done.back(), " (of ", iterations_, ")");
    restore_tensors(checkpoint, state_, path);
    iteration_ = checkpoint.iteration;
    console_ << "resumed from " << path << " (iteration " << iteration_;
    if (checkpoint.ranks != communicator_.world_size())
      console_ << ", written by " << ranks_text(checkpoint.ranks) << ", continued by " << communicator_.world_size()
               << ": the same global batch and schedule, another sample order";
    console_ << ")\n";
    return path;
  }

  // --init: the file's model tensors over the initialisation, every rank alike; says what it took.
  void initialise_from_file() {
    if (!config_.init) return;
    const std::string& path = *config_.init;
    const PartialRestore restore = restore_matching_tensors(read_checkpoint(path), model_tensors(model_), path);
    const auto some = [](const std::vector<std::string>& names) {
      std::string text;
      for (std::size_t i = 0; i < names.size() && i < 3; ++i) text += (i ? ", " : " (") + names[i];
      return names.empty() ? text : text + (names.size() > 3 ? ", ...)" : ")");
    };
    console_ << "init: " << restore.loaded.size() << " tensors from " << path << "; " << restore.kept.size()
             << " left at their initialisation" << some(restore.kept) << "; " << restore.unused.size()
             << " of the file unused" << some(restore.unused) << "\n";
    PANS_CHECK(!restore.loaded.empty(), "--init ", path, ": none of its tensors is named as one of this model's");
  }

  // Every image and label of both splits, before anything is written: a truncated file stops the run
  // now, naming it, instead of when the loader reaches it.
  void check_data_files() {
    const Clock::time_point start = Clock::now();
    training_->check_files();
    validation_->check_files();
    console_ << "data: checked the " << 2 * (training_->size() + validation_->size()) << " image and label files in "
             << printf_string("%.1f", seconds_since(start)) << " s\n";
  }

  // Another world size is fine as long as the global batch stays what it was: the weights depend on
  // the global batch only (trainer.h). Refused with both world sizes named, and the --batch that
  // would keep it when there is one.
  void check_same_global_batch(const Checkpoint& checkpoint, const std::string& path) const {
    const std::int64_t stored = recipe_global_batch(checkpoint.config, path);
    if (stored == global_batch()) return;
    const int ranks = communicator_.world_size();
    const std::string advice =
        stored % ranks == 0 && stored / ranks >= 2
            ? "resume with --batch " + std::to_string(stored / ranks) + " on " + ranks_text(ranks)
            : "resume on a number of ranks that divides it into per-rank batches of at least 2";
    PANS_FAIL(path, " was trained with a global batch of ", stored, " (", ranks_text(checkpoint.ranks), " x batch ",
              stored / std::max(checkpoint.ranks, 1), "); now ", ranks_text(ranks), " x --batch ", config_.batch, " = ",
              global_batch(), ": the global batch must stay the same; ", advice);
  }

  void print_start(std::int64_t stop) {
    console_ << "model: " << preset_name(config_.preset) << " preset, "
             << classifier_kind_name(config_.model.classifier) << " classifier, " << model_.parameter_count()
             << " parameters, on " << config_.device.str() << "\n"
             << "data: " << config_.data_root << " (" << training_->size() << " training, " << validation_->size()
             << " validation images)\n"
             << "schedule: " << iterations_ << " iterations (" << batches_per_epoch_ << " per epoch) of batch "
             << config_.batch << ", " << config_.augment.crop << "x" << config_.augment.crop << " crops, scales ["
             << config_.augment.min_scale << ", " << config_.augment.max_scale << "], lr " << config_.lr << " (poly "
             << config_.lr_power << ")";
    if (stop < iterations_) console_ << ", stopping after iteration " << stop;
    console_ << "\noutput: " << config_.out << "\n";
    console_.flush();
  }

  void step(const Batch& batch) {
    const Device device = config_.device;
    const Tensor images = device.is_cpu() ? batch.images : batch.images.to(device);
    const Tensor labels = device.is_cpu() ? batch.labels : batch.labels.to(device);
    model_.zero_grad();
    const PspNetOutput out = model_.forward(images, Mode::Train, std::uint64_t(iteration_));
    Tensor dmain = Tensor::empty(out.logits.shape(), out.logits.dtype(), device);
    double main = softmax_cross_entropy(out.logits, labels, dmain);
    Tensor ddeep;
    double deep = 0;
    if (out.deep_supervision_logits.defined()) {
      ddeep = Tensor::empty(out.deep_supervision_logits.shape(), out.logits.dtype(), device);
      deep = softmax_cross_entropy(out.deep_supervision_logits, labels, ddeep, kIgnoreLabel,
                                   config_.deep_supervision_weight) /
             config_.deep_supervision_weight;
    }
    // The global batch's losses, so that every rank takes the same decision on divergence below
    // (one rank throwing alone would leave the others waiting in a collective).
    if (data_parallel_) average_over_ranks(main, deep);
    if (!std::isfinite(main) || !std::isfinite(deep))
      fail_diverged(detail::concat("loss main ", main, ", deep supervision ", deep));
    if (data_parallel_ && config_.implementations.overlap_gradient_averaging) {
      // Each bucket of gradients is averaged while the backward computes the layers below it.
      model_.backward(dmain, ddeep,
                      [this](const std::vector<Parameter>& ready) { gradient_averager_->on_gradients_ready(ready); });
      gradient_averager_->finish();
    } else {
      model_.backward(dmain, ddeep);
      if (data_parallel_) gradient_averager_->average();
    }
    // The averaged gradients, and so the state after the step, are the same on every rank: every
    // rank decides alike. The state (weights, running statistics, momentum) is what a checkpoint
    // saves: checked here, a checkpoint never holds the overflow of the step before it.
    check_finite(gradients_);
    last_lr_ = schedule_.at(iteration_);
    optimizer_.step(last_lr_);
    check_finite(state_);
    ++iteration_;
    losses_.main += main;
    losses_.deep_supervision += deep;
    ++losses_.count;
  }

  // Stops the run at the first of `named` that holds a NaN or an infinity, naming it.
  void check_finite(const std::vector<NamedTensor>& named) const {
    std::vector<Tensor> tensors;
    for (const NamedTensor& t : named) tensors.push_back(t.value);
    const std::vector<std::size_t> bad = tensors_with_nonfinite(tensors);
    if (!bad.empty())
      fail_diverged(detail::concat(named[bad.front()].name, " is not finite (", bad.size(), " of ", named.size(),
                                   " tensors are not)"));
  }

  // Nothing of the failed iteration is saved: the checkpoints in --out are of earlier iterations.
  [[noreturn]] void fail_diverged(const std::string& what) const {
    const std::vector<std::int64_t> done = complete_checkpoints(config_.out);
    PANS_FAIL("training diverged at iteration ", iteration_ + 1, ": ", what, "; ",
              done.empty() ? std::string("no checkpoint was written yet")
                           : detail::concat("the last checkpoint, ", checkpoint_path(config_.out, done.back()),
                                            ", is of iteration ", done.back(), " and intact"),
              " (try a lower --lr)");
  }

  bool validation_due(std::int64_t done) const {
    return done == iterations_ || (config_.val_every > 0 && done % config_.val_every == 0);
  }

  // Wall time of this session's iterations (loading included), without validations and checkpoints.
  double training_seconds() const { return seconds_since(session_start_) - paused_seconds_; }

  // Training seconds still to go, plus the validations ahead at the pace of the last one.
  double eta_seconds(std::int64_t stop) const {
    const double per_iteration = training_seconds() / double(iteration_ - session_start_iteration_);
    std::int64_t validations = 0;
    for (std::int64_t it = iteration_ + 1; it <= stop; ++it) validations += validation_due(it);
    return per_iteration * double(stop - iteration_) + double(validations) * last_validation_seconds_;
  }

  void average_over_ranks(double& main, double& deep) {
    Tensor losses = Tensor::from_vector(std::vector<double>{main, deep}, {2}).to(communicator_.device());
    communicator_.all_reduce(losses, ReduceOp::Average);
    const std::vector<double> averaged = losses.to(Device::cpu()).to_vector<double>();
    main = averaged[0];
    deep = averaged[1];
  }

  std::int64_t global_batch() const { return pans::global_batch(config_, communicator_.world_size()); }

  void log_progress(std::int64_t stop) {
    const double seconds = seconds_since(interval_start_);
    const double images_per_second = double(losses_.count * global_batch()) / seconds;
    const double main = losses_.main / double(losses_.count);
    const double deep = losses_.deep_supervision / double(losses_.count);
    const double total = main + config_.deep_supervision_weight * deep;
    const std::int64_t epoch = (iteration_ - 1) / batches_per_epoch_, in_epoch = (iteration_ - 1) % batches_per_epoch_;
    char line[320];
    std::snprintf(line, sizeof line,
                  "it %lld/%lld  epoch %lld (%lld/%lld)  loss %.4f (main %.4f, deep-sup %.4f)  lr %.6f  %.1f img/s  "
                  "ETA %s\n",
                  static_cast<long long>(iteration_), static_cast<long long>(iterations_),
                  static_cast<long long>(epoch + 1), static_cast<long long>(in_epoch + 1),
                  static_cast<long long>(batches_per_epoch_), total, main, deep, last_lr_, images_per_second,
                  format_duration(eta_seconds(stop)).c_str());
    console_ << line;
    console_.flush();
    if (leader_)
      log_->write({{"type", "train"},
                   {"iteration", iteration_},
                   {"epoch", double(iteration_) / double(batches_per_epoch_)},
                   {"loss", total},
                   {"loss_main", main},
                   {"loss_deep_supervision", deep},
                   {"lr", last_lr_},
                   {"images_per_second", images_per_second}});
    losses_ = LossSums{};
    interval_start_ = Clock::now();
  }

  void save_checkpoint() {
    const Clock::time_point start = Clock::now();
    // The weights, statistics and momentum are the same on every rank: rank 0 writes them, and the
    // barrier keeps every rank from going on (or ending the job) before the checkpoint is complete.
    if (leader_) {
      write_checkpoint(config_.out, {iteration_, recipe_, state_, communicator_.world_size()});
      remove_old_checkpoints(config_.out, config_.keep_checkpoints);
    }
    communicator_.barrier();
    pause(start);
  }

  // Every rank validates its share of the images (validation.h); rank 0 reports.
  void validate() {
    const Clock::time_point start = Clock::now();
    const ConfusionMatrix matrix =
        evaluate_native_resolution(model_, validation_, config_.batch, config_.workers, communicator_);
    const SegmentationScores scores = segmentation_scores(matrix);
    last_validation_seconds_ = seconds_since(start);
    last_scores_ = scores;
    if (leader_) report_validation(scores);
    pause(start);
  }

  void report_validation(const SegmentationScores& scores) {
    console_ << "validation at iteration " << iteration_ << " (" << validation_->size() << " images at native size, "
             << printf_string("%.1f", last_validation_seconds_) << " s):\n"
             << format_scores(scores);
    console_.flush();
    nlohmann::json iou = nlohmann::json::object();
    for (std::size_t c = 0; c < scores.iou.size(); ++c)
      iou[streethazards::class_name(int(c))] = scores.iou[c] ? nlohmann::json(*scores.iou[c]) : nlohmann::json();
    const auto optional_json = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
    log_->write({{"type", "validation"},
                 {"iteration", iteration_},
                 {"images", validation_->size()},
                 {"miou13", optional_json(scores.miou13)},
                 {"miou11", optional_json(scores.miou11)},
                 {"pixel_accuracy", scores.pixel_accuracy},
                 {"iou", iou},
                 {"seconds", last_validation_seconds_}});
  }

  // Leaves the time since `start` out of the training time and the next images/s.
  void pause(Clock::time_point start) {
    const Clock::duration paused = Clock::now() - start;
    paused_seconds_ += std::chrono::duration<double>(paused).count();
    interval_start_ += paused;
  }

  TrainSummary summary() const {
    TrainSummary summary;
    summary.iteration = iteration_;
    summary.iterations = iterations_;
    summary.last_validation = last_scores_;
    const std::int64_t trained = iteration_ - session_start_iteration_;
    if (trained > 0) summary.images_per_second = double(trained * global_batch()) / training_seconds();
    return summary;
  }

  const TrainConfig config_;
  Communicator& communicator_;
  const bool data_parallel_, leader_;
  DiscardingStream discarded_;
  std::ostream& console_;
  const std::shared_ptr<const StreetHazards> training_, validation_;
  const DistributedSampler sampler_;
  const std::int64_t iterations_, batches_per_epoch_;
  const nlohmann::json recipe_;
  SynchronizedBatchStatistics batch_statistics_;
  PspNet model_;
  const std::vector<Parameter> parameters_;
  // Views of the parameters' gradients and of what a checkpoint saves (weights, running statistics,
  // momentum), named once: the divergence checks of every step and the checkpoints read them.
  std::vector<NamedTensor> gradients_, state_;
  SgdOptimizer optimizer_;
  std::unique_ptr<GradientAverager> gradient_averager_;
  const PolyLearningRate schedule_;
  std::unique_ptr<MetricsLog> log_;

  std::int64_t iteration_ = 0, session_start_iteration_ = 0;
  double last_lr_ = 0, paused_seconds_ = 0, last_validation_seconds_ = 0;
  LossSums losses_;
  Clock::time_point session_start_, interval_start_;
  std::optional<SegmentationScores> last_scores_;
};

}  // namespace

TrainSummary train(const TrainConfig& config, std::ostream& console, Communicator& communicator) {
  check_train_config(config);
  TrainingRun run(config, console, communicator);
  return run.run();
}

TrainSummary train(const TrainConfig& config, std::ostream& console) {
  const std::unique_ptr<Communicator> alone = make_single_process_communicator();
  return train(config, console, *alone);
}

}  // namespace pans
