// Pruners: create (with objective/source checks), progress, checkpoints, step/run, results.
#include "absl/strings/str_cat.h"
#include "c_api/internal.h"
#include "gisp/base/status.h"
#include "gisp/proto/json.h"
#include "gisp/prune/record.h"

using gisp::capi::Guard;

extern "C" {

int32_t gisp_progress_step(const gisp_progress* p) { return p ? p->progress.step : 0; }
int32_t gisp_progress_steps(const gisp_progress* p) { return p ? p->progress.steps : 0; }
int64_t gisp_progress_batch(const gisp_progress* p) { return p ? p->progress.batch : 0; }
int64_t gisp_progress_batches(const gisp_progress* p) { return p ? p->progress.batches : 0; }
double gisp_progress_elapsed_seconds(const gisp_progress* p) {
  return p ? p->progress.elapsed_seconds : 0;
}
double gisp_progress_eta_seconds(const gisp_progress* p) { return p ? p->progress.eta_seconds : 0; }
double gisp_progress_sparsity(const gisp_progress* p) { return p ? p->progress.last_sparsity : 0; }
double gisp_progress_loss(const gisp_progress* p) { return p ? p->progress.last_loss : 0; }

gisp_status* gisp_pruner_create(gisp_model* model, const gisp_calibration* data,
                                const gisp_prune_config* config, const gisp_record* resume,
                                gisp_pruner** out) {
  GISP_C_REQUIRE(model);
  GISP_C_REQUIRE(data);
  GISP_C_REQUIRE(config);
  GISP_C_REQUIRE(out);
  return gisp::capi::GuardIn(model->context, __func__, [&]() -> absl::Status {
    auto p = std::make_unique<gisp_pruner>();
    p->model = model;
    // Everything before gisp::Pruner::Create is checked here, per rank; a rank that fails it
    // abandons the other ranks' Create (which agrees on the outcome) instead of leaving them
    // waiting.
    const absl::Status ready = [&]() -> absl::Status {
      if (model->pruned_in_place || !model->original) {
        return absl::FailedPreconditionError(
            "gisp_pruner_create needs a dense model loaded with gisp_model_load that no other "
            "pruner has pruned");
      }
      const gisp::Objective objective = config->config.objective;
      GISP_RETURN_IF_ERROR(gisp::CheckObjectiveFits(data->source, objective));
      GISP_ASSIGN_OR_RETURN(p->batches,
                            gisp::MakeCalibrationBatches(data->sequences, objective,
                                                         config->config.batch_size, data->pad_id));
      return absl::OkStatus();
    }();
    if (!ready.ok()) {
      if (model->context.comm == nullptr) return ready;
      return gisp::Pruner::Abandon(*model->context.comm, ready);
    }
    p->batches.source = data->source;
    p->batches.window_tokens = data->window_tokens;
    p->batches.seed = data->seed;
    gisp::PrunerOptions options;
    options.config = config->config;
    options.compact = config->compact;
    options.comm = model->context.comm;
    gisp_pruner* raw = p.get();
    options.progress = [raw](const gisp::PruneProgress& progress) {
      if (raw->progress_fn == nullptr) return true;
      gisp_progress cp{progress};
      return raw->progress_fn(&cp, raw->progress_user_data);
    };
    options.checkpoint = [raw](const gisp::proto::Record& record) -> absl::Status {
      if (raw->checkpoint_path.empty()) return absl::OkStatus();
      return gisp::SaveRecord(record, raw->checkpoint_path);
    };
    GISP_ASSIGN_OR_RETURN(p->pruner,
                          gisp::Pruner::Create(model->model.get(), &p->batches, options,
                                               resume == nullptr ? nullptr : &resume->record));
    model->pruned_in_place = true;
    *out = p.release();
    return absl::OkStatus();
  });
}

void gisp_pruner_free(gisp_pruner* pruner) { delete pruner; }

void gisp_pruner_set_progress_callback(gisp_pruner* pruner, gisp_progress_fn fn, void* user_data) {
  if (pruner == nullptr) return;
  pruner->progress_fn = fn;
  pruner->progress_user_data = user_data;
}

gisp_status* gisp_pruner_set_checkpoint_path(gisp_pruner* pruner, const char* path) {
  GISP_C_REQUIRE(pruner);
  return Guard(__func__, [&]() -> absl::Status {
    pruner->checkpoint_path = path == nullptr ? "" : path;
    return absl::OkStatus();
  });
}

gisp_status* gisp_pruner_step(gisp_pruner* pruner) {
  GISP_C_REQUIRE(pruner);
  return gisp::capi::GuardIn(pruner->model->context, __func__,
                             [&]() { return pruner->pruner->Step(); });
}

gisp_status* gisp_pruner_run(gisp_pruner* pruner) {
  GISP_C_REQUIRE(pruner);
  return gisp::capi::GuardIn(pruner->model->context, __func__,
                             [&]() { return pruner->pruner->Run(); });
}

bool gisp_pruner_done(const gisp_pruner* pruner) {
  return pruner != nullptr && pruner->pruner->done();
}

int32_t gisp_pruner_next_step(const gisp_pruner* pruner) {
  return pruner == nullptr ? 0 : pruner->pruner->next_step();
}

int32_t gisp_pruner_total_steps(const gisp_pruner* pruner) {
  return pruner == nullptr ? 0 : pruner->pruner->total_steps();
}

int64_t gisp_pruner_num_units(const gisp_pruner* pruner) {
  return pruner == nullptr ? 0 : pruner->pruner->num_units();
}

gisp_status* gisp_pruner_record(const gisp_pruner* pruner, gisp_record** out) {
  GISP_C_REQUIRE(pruner);
  GISP_C_REQUIRE(out);
  return Guard(__func__, [&]() -> absl::Status {
    *out = new gisp_record{pruner->pruner->record()};
    return absl::OkStatus();
  });
}

gisp_status* gisp_pruner_scores(const gisp_pruner* pruner, double* out, size_t capacity,
                                size_t* count) {
  GISP_C_REQUIRE(pruner);
  GISP_C_REQUIRE(count);
  return Guard(__func__, [&]() -> absl::Status {
    const std::vector<double>& scores = pruner->pruner->last_scores();
    if (scores.empty()) {
      return absl::FailedPreconditionError("gisp_pruner_scores: no step has completed yet");
    }
    if (out == nullptr || capacity < scores.size()) {
      return absl::InvalidArgumentError(absl::StrCat("gisp_pruner_scores: need room for ",
                                                     scores.size(), " scores, got ", capacity));
    }
    std::copy(scores.begin(), scores.end(), out);
    *count = scores.size();
    return absl::OkStatus();
  });
}

gisp_status* gisp_pruner_timings_json(const gisp_pruner* pruner, char** json) {
  GISP_C_REQUIRE(pruner);
  GISP_C_REQUIRE(json);
  return Guard(__func__, [&]() -> absl::Status {
    // A bare JSON array, as in 0.1.0 (docs/abi_policy.md: a function's meaning never changes);
    // each element is gisp.proto's StepTiming in protobuf's JSON mapping.
    std::string out = "[";
    for (const gisp::proto::StepTiming& step : pruner->pruner->timings().timings()) {
      GISP_ASSIGN_OR_RETURN(const std::string item, gisp::ProtoToJson(step));
      if (out.size() > 1) out += ", ";
      out += item;
    }
    out += "]";
    *json = gisp::capi::CopyString(out);
    return absl::OkStatus();
  });
}

}  // extern "C"
