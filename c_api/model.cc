// Models: load, query, tokenize, materialize a record's subnetwork, export.
#include <sched.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "c_api/internal.h"
#include "gisp/base/cpu_features.h"
#include "gisp/base/file.h"
#include "gisp/base/log.h"
#include "gisp/base/status.h"
#include "gisp/base/version.h"
#include "gisp/export/exporter.h"
#include "gisp/export/slice.h"
#include "gisp/io/hf_config.h"
#include "gisp/prune/record.h"

namespace gisp {
namespace capi {
namespace {

absl::StatusOr<std::unique_ptr<Backend>> MakeBackend(gisp_device device, int index) {
  switch (device) {
    case GISP_DEVICE_CPU:
      return CreateCpuBackend();
    case GISP_DEVICE_CUDA:
      return CreateCudaBackend(index);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown device ", static_cast<int>(device)));
}

// Builds the working copy of `m`'s host weights on its device, in the model's working dtype:
// AUTO keeps a bf16/f16 checkpoint bf16/f16 on a device that can (CUDA) and uses f32 copies
// elsewhere; an explicit 16-bit dtype the backend cannot keep is refused.
absl::Status BuildWorkingModel(gisp_model* m) {
  const auto t0 = std::chrono::steady_clock::now();
  GISP_ASSIGN_OR_RETURN(m->backend, MakeBackend(m->device, m->device_index));
  LlamaModel::Options options;
  const DType stored = m->host_weights.embed.empty() ? DType::kF32 : m->host_weights.embed.dtype();
  switch (m->working_dtype) {
    case GISP_DTYPE_AUTO:
      if (m->backend->SupportsStorageDType(stored)) options.weight_dtype = stored;
      break;
    case GISP_DTYPE_F32:
      break;
    case GISP_DTYPE_BF16:
    case GISP_DTYPE_F16: {
      const DType want = m->working_dtype == GISP_DTYPE_BF16 ? DType::kBF16 : DType::kF16;
      if (!m->backend->SupportsStorageDType(want)) {
        return absl::UnimplementedError(absl::StrCat("working dtype ", DTypeName(want), ": the ",
                                                     m->backend->name(),
                                                     " backend keeps weights in f32 only"));
      }
      options.weight_dtype = want;
      break;
    }
  }
  options.stream_layers = m->stream_layers;
  GISP_ASSIGN_OR_RETURN(
      m->model, LlamaModel::Create(m->host_config, m->host_weights, m->backend.get(), options));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Log(LogLevel::kInfo,
      absl::StrFormat("gisp %s: %s %s; backend %s; weights %s%s; %d layers, %.2fM parameters, "
                      "placed in %.2f s",
                      GispVersion(), m->original ? "loaded" : "materialized", m->dir,
                      m->backend->name(), DTypeName(options.weight_dtype),
                      options.stream_layers ? " (decoder layers streamed from the host)" : "",
                      m->host_config.num_layers,
                      static_cast<double>(m->host_config.TotalParameters()) / 1e6, seconds));
  if (m->device == GISP_DEVICE_CPU) {
    Log(LogLevel::kInfo,
        absl::StrCat("CPU: ", CpuFeatureSummary(), "; kernels compiled for x86-64-v3 (AVX2, FMA)"));
    // More threads than cores makes OpenMP's barriers wait on descheduled threads.
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0 &&
        CurrentThreadCount() > CPU_COUNT(&allowed)) {
      Log(LogLevel::kWarning,
          absl::StrCat("gisp will run ", CurrentThreadCount(), " threads but this process may use ",
                       CPU_COUNT(&allowed),
                       " cores: threads will wait for each other; set the context's thread count "
                       "(gisp_context_set_num_threads) to at most the cores"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DType> StorageDType(const gisp_model* model, gisp_dtype dtype) {
  switch (dtype) {
    case GISP_DTYPE_F32:
      return DType::kF32;
    case GISP_DTYPE_BF16:
      return DType::kBF16;
    case GISP_DTYPE_F16:
      return DType::kF16;
    case GISP_DTYPE_AUTO:
      return model->host_config.torch_dtype;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown dtype ", static_cast<int>(dtype), " (f32 0, bf16 1, f16 2, auto 100)"));
}

absl::Status CheckExportable(const gisp_model* model) {
  if (!model->pruned_in_place) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "this model's working copy was pruned in place; export a step of the record with "
      "gisp_model_materialize first");
}

absl::StatusOr<const Tokenizer*> GetTokenizer(gisp_model* model) {
  std::lock_guard<std::mutex> lock(model->tokenizer_mu);
  if (!model->tokenizer_tried) {
    model->tokenizer_tried = true;
    auto tok = Tokenizer::Load(model->tokenizer_dir);
    if (tok.ok()) {
      model->tokenizer = std::move(tok).value();
    } else {
      model->tokenizer_status = tok.status();
    }
  }
  if (model->tokenizer == nullptr) return model->tokenizer_status;
  return model->tokenizer.get();
}

}  // namespace capi
}  // namespace gisp

using gisp::capi::Guard;

extern "C" {

gisp_status* gisp_model_load(const char* model_dir, gisp_device device, int device_index,
                             gisp_model** out) {
  gisp_load_options options;
  options.device = device;
  options.device_index = device_index;
  return gisp_model_load_with_options(model_dir, &options, out);
}

gisp_status* gisp_model_load_with_options(const char* model_dir, const gisp_load_options* options,
                                          gisp_model** out) {
  GISP_C_REQUIRE(model_dir);
  GISP_C_REQUIRE(out);
  const gisp_load_options defaults;
  const gisp_load_options& o = options == nullptr ? defaults : *options;
  return Guard(__func__, [&]() -> absl::Status {
    std::function<bool(absl::string_view, int64_t, int64_t)> progress;
    if (o.progress_fn != nullptr) {
      progress = [&o](absl::string_view stage, int64_t done, int64_t total) {
        return stage != "load" || o.progress_fn(done, total, o.progress_user_data);
      };
    }
    const gisp::CallContext call = gisp::capi::MakeCallContext(o.context, std::move(progress));
    gisp::ScopedCallContext scope(&call);
    GISP_RETURN_IF_ERROR(gisp::CheckCancelled("load"));
    auto m = std::make_unique<gisp_model>();
    m->dir = model_dir;
    m->tokenizer_dir = model_dir;
    m->device = o.device;
    m->device_index = o.device_index;
    m->working_dtype = o.working_dtype;
    m->stream_layers = o.stream_layers;
    m->context = o.context;
    GISP_ASSIGN_OR_RETURN(gisp::Checkpoint ckpt, gisp::LoadCheckpoint(model_dir));
    m->host_config = ckpt.config;
    m->host_weights = ckpt.weights;
    m->keep_alive = ckpt.archive;
    m->original = ckpt.config.IsDense();
    GISP_RETURN_IF_ERROR(gisp::capi::BuildWorkingModel(m.get()));
    *out = m.release();
    return absl::OkStatus();
  });
}

gisp_status* gisp_model_set_context(gisp_model* model, const gisp_context* ctx) {
  GISP_C_REQUIRE(model);
  return Guard(__func__, [&]() -> absl::Status {
    model->context = ctx == nullptr ? gisp::capi::ContextSettings() : ctx->settings;
    return absl::OkStatus();
  });
}

void gisp_model_free(gisp_model* model) { delete model; }

gisp_status* gisp_model_get_int(const gisp_model* model, gisp_model_field field, int64_t* out) {
  GISP_C_REQUIRE(model);
  GISP_C_REQUIRE(out);
  return Guard(__func__, [&]() -> absl::Status {
    const gisp::LlamaConfig& dense = model->host_config;
    const gisp::LlamaConfig& now = model->model->config();
    switch (field) {
      case GISP_MODEL_VOCAB_SIZE:
        *out = dense.vocab_size;
        break;
      case GISP_MODEL_HIDDEN_SIZE:
        *out = dense.hidden_size;
        break;
      case GISP_MODEL_NUM_LAYERS:
        *out = dense.num_layers;
        break;
      case GISP_MODEL_NUM_HEADS:
        *out = dense.num_heads;
        break;
      case GISP_MODEL_NUM_KV_HEADS:
        *out = dense.num_kv_heads;
        break;
      case GISP_MODEL_HEAD_DIM:
        *out = dense.head_dim;
        break;
      case GISP_MODEL_INTERMEDIATE_SIZE:
        *out = dense.intermediate_size;
        break;
      case GISP_MODEL_TOTAL_PARAMETERS:
        *out = now.TotalParameters();
        break;
      case GISP_MODEL_DECODER_PARAMETERS:
        *out = now.DecoderParameters();
        break;
      case GISP_MODEL_MAX_POSITIONS:
        *out = dense.max_position_embeddings;
        break;
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("gisp_model_get_int: unknown field ", static_cast<int>(field)));
    }
    return absl::OkStatus();
  });
}

gisp_status* gisp_model_config_json(const gisp_model* model, char** json) {
  GISP_C_REQUIRE(model);
  GISP_C_REQUIRE(json);
  return Guard(__func__, [&]() -> absl::Status {
    *json = gisp::capi::CopyString(gisp::LlamaConfigToJson(model->model->config()).Dump(2));
    return absl::OkStatus();
  });
}

gisp_status* gisp_model_tokenize(gisp_model* model, const char* text, bool add_special_tokens,
                                 int32_t** ids, size_t* count) {
  GISP_C_REQUIRE(model);
  GISP_C_REQUIRE(text);
  GISP_C_REQUIRE(ids);
  GISP_C_REQUIRE(count);
  return Guard(__func__, [&]() -> absl::Status {
    GISP_ASSIGN_OR_RETURN(const gisp::Tokenizer* tok, gisp::capi::GetTokenizer(model));
    GISP_ASSIGN_OR_RETURN(std::vector<int32_t> tokens, tok->Encode(text, add_special_tokens));
    int32_t* buf = static_cast<int32_t*>(std::malloc(std::max<size_t>(1, tokens.size()) * 4));
    if (buf == nullptr) return absl::ResourceExhaustedError("gisp_model_tokenize: out of memory");
    if (!tokens.empty()) std::memcpy(buf, tokens.data(), tokens.size() * 4);
    *ids = buf;
    *count = tokens.size();
    return absl::OkStatus();
  });
}

void gisp_tokens_free(int32_t* ids) { std::free(ids); }

gisp_status* gisp_model_materialize(const gisp_model* model, const gisp_record* record,
                                    int32_t step, gisp_model** out) {
  GISP_C_REQUIRE(model);
  GISP_C_REQUIRE(record);
  GISP_C_REQUIRE(out);
  return gisp::capi::GuardIn(model->context, __func__, [&]() -> absl::Status {
    if (!model->original) {
      return absl::FailedPreconditionError(
          "gisp_model_materialize needs the original dense model as loaded from disk, not a "
          "materialized one");
    }
    GISP_ASSIGN_OR_RETURN(
        gisp::SlicedModel sliced,
        gisp::SliceModel(model->host_config, model->host_weights, record->record, step));
    auto m = std::make_unique<gisp_model>();
    m->dir = model->dir;
    m->tokenizer_dir = model->tokenizer_dir;
    m->device = model->device;
    m->device_index = model->device_index;
    m->working_dtype = model->working_dtype;
    m->stream_layers = model->stream_layers;
    m->context = model->context;
    m->host_config = std::move(sliced.config);
    m->host_weights = std::move(sliced.weights);
    m->keep_alive = model->keep_alive;
    m->original = false;
    GISP_RETURN_IF_ERROR(gisp::capi::BuildWorkingModel(m.get()));
    *out = m.release();
    return absl::OkStatus();
  });
}

gisp_status* gisp_model_export(const gisp_model* model, const char* dir, gisp_dtype dtype) {
  GISP_C_REQUIRE(model);
  GISP_C_REQUIRE(dir);
  return gisp::capi::GuardIn(model->context, __func__, [&]() -> absl::Status {
    GISP_RETURN_IF_ERROR(gisp::capi::CheckExportable(model));
    GISP_ASSIGN_OR_RETURN(gisp::DType storage, gisp::capi::StorageDType(model, dtype));
    gisp::SlicedModel m{model->host_config, model->host_weights};
    GISP_RETURN_IF_ERROR(gisp::ExportSlicedModel(dir, m, storage));
    return gisp::CopySideFiles(model->tokenizer_dir, dir);
  });
}

gisp_status* gisp_model_export_format(const gisp_model* model, gisp_export_format format,
                                      const char* dir, gisp_dtype dtype, int64_t* parameters,
                                      int64_t* exact_parameters) {
  GISP_C_REQUIRE(model);
  GISP_C_REQUIRE(dir);
  return gisp::capi::GuardIn(model->context, __func__, [&]() -> absl::Status {
    GISP_RETURN_IF_ERROR(gisp::capi::CheckExportable(model));
    gisp::ExportFormat f;
    switch (format) {
      case GISP_EXPORT_SLICED:
        f = gisp::ExportFormat::kSliced;
        break;
      case GISP_EXPORT_LLAMA:
        f = gisp::ExportFormat::kLlama;
        break;
      case GISP_EXPORT_GGUF:
        f = gisp::ExportFormat::kGguf;
        break;
      case GISP_EXPORT_DECILM:
        f = gisp::ExportFormat::kDecilm;
        break;
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("gisp_model_export_format: unknown format ", static_cast<int>(format)));
    }
    GISP_ASSIGN_OR_RETURN(gisp::DType storage, gisp::capi::StorageDType(model, dtype));
    const gisp::SlicedModel m{model->host_config, model->host_weights};
    GISP_ASSIGN_OR_RETURN(gisp::ExportResult r,
                          gisp::ExportModel(f, dir, m, storage, model->tokenizer_dir));
    if (parameters != nullptr) *parameters = r.parameters;
    if (exact_parameters != nullptr) *exact_parameters = r.exact_parameters;
    return absl::OkStatus();
  });
}

}  // extern "C"
