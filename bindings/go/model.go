package gisp

/*
#include <stdint.h>
#include <stdlib.h>
#include <gisp/gisp.h>
extern bool gispGoLoadProgress(int64_t done, int64_t total, void* user);
static gisp_status* gisp_go_load_progress(gisp_load_options* o, uintptr_t handle) {
  return gisp_load_options_set_progress_callback(o, (gisp_load_progress_fn)gispGoLoadProgress,
                                                 (void*)handle);
}
*/
import "C"

import (
	"context"
	"runtime"
	"runtime/cgo"
	"unsafe"
)

// Model is an HF Llama-family model: memory-mapped weights and a working copy on a device.
type Model struct {
	p        *C.gisp_model
	s        contextSettings // what m's C context holds
	ownToken bool            // s.token was created by the binding for context.Context support
}

func newModel(p *C.gisp_model) *Model {
	m := &Model{p: p}
	runtime.SetFinalizer(m, (*Model).Close)
	return m
}

// LoadModel loads an HF model directory with no context and no cancellation (see
// LoadWithOptions).
func LoadModel(dir string, device Device) (*Model, error) {
	if err := checkABI(); err != nil {
		return nil, err
	}
	cdir := C.CString(dir)
	defer C.free(unsafe.Pointer(cdir))
	var p *C.gisp_model
	if err := check(C.gisp_model_load(cdir, device.kind, device.index, &p)); err != nil {
		return nil, err
	}
	return newModel(p), nil
}

// LoadOptions configures LoadWithOptions. The zero value is not valid; use NewLoadOptions.
// The setters return the options for chaining; values are checked when a model is loaded.
type LoadOptions struct {
	device   Device
	dtype    DType
	stream   bool
	s        contextSettings
	progress func(done, total int64) bool
}

// NewLoadOptions returns the defaults: CPU, working dtype Auto, no context, no progress.
func NewLoadOptions() *LoadOptions { return &LoadOptions{device: CPU, dtype: Auto} }

// SetDevice places the working copy on d.
func (o *LoadOptions) SetDevice(d Device) *LoadOptions { o.device = d; return o }

// SetWorkingDType sets the dtype of the working copy's weights (F32, or BF16/F16 on a backend
// that computes with 16-bit weights; Auto picks).
func (o *LoadOptions) SetWorkingDType(d DType) *LoadOptions { o.dtype = d; return o }

// SetStreamLayers keeps the decoder layers and their calibration gradients in host memory and
// uploads one layer at a time to the device (layer streaming, docs/scaling.md): for models whose
// weights do not fit the device; same results, more host-to-device traffic. Default false.
func (o *LoadOptions) SetStreamLayers(enabled bool) *LoadOptions { o.stream = enabled; return o }

// SetContext makes the model run under a copy of c's current settings (nil: none).
func (o *LoadOptions) SetContext(c *Context) *LoadOptions {
	o.s = contextSettings{}
	if c != nil {
		o.s = c.s
	}
	return o
}

// SetProgress calls fn on the loading goroutine's thread after each decoder layer is placed,
// with the layers done and the total; returning false cancels the load (Cancelled, no model).
func (o *LoadOptions) SetProgress(fn func(done, total int64) bool) *LoadOptions {
	o.progress = fn
	return o
}

type loadProgress struct {
	ctx context.Context
	fn  func(done, total int64) bool
}

// LoadWithOptions loads an HF model directory with options (nil: the defaults). When ctx is
// done during the load, the load stops at the next layer with a Cancelled error wrapping
// ctx.Err().
func LoadWithOptions(ctx context.Context, dir string, opts *LoadOptions) (*Model, error) {
	if err := checkABI(); err != nil {
		return nil, err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if ctx.Err() != nil {
		return nil, cancelled(nil, ctx)
	}
	if opts == nil {
		opts = NewLoadOptions()
	}
	o := *opts
	s := o.s
	own := false
	if ctx.Done() != nil && s.token == nil {
		t, err := NewCancelToken()
		if err != nil {
			return nil, err
		}
		if !s.set {
			s.logLevel = LogInfo
		}
		s.set, s.token, own = true, t, true
	}
	var co *C.gisp_load_options
	if err := check(C.gisp_load_options_create(&co)); err != nil {
		return nil, err
	}
	defer C.gisp_load_options_free(co)
	if err := check(C.gisp_load_options_set_device(co, o.device.kind, o.device.index)); err != nil {
		return nil, err
	}
	if err := check(C.gisp_load_options_set_working_dtype(co, C.gisp_dtype(o.dtype))); err != nil {
		return nil, err
	}
	if err := check(C.gisp_load_options_set_stream_layers(co, C.bool(o.stream))); err != nil {
		return nil, err
	}
	if s.set {
		c, err := s.build()
		if err != nil {
			return nil, err
		}
		err = check(C.gisp_load_options_set_context(co, c))
		C.gisp_context_free(c)
		if err != nil {
			return nil, err
		}
	}
	if o.progress != nil {
		h := cgo.NewHandle(&loadProgress{ctx: ctx, fn: o.progress})
		defer h.Delete()
		if err := check(C.gisp_go_load_progress(co, C.uintptr_t(h))); err != nil {
			return nil, err
		}
	}
	cdir := C.CString(dir)
	defer C.free(unsafe.Pointer(cdir))
	w := watch(ctx, s.token, own)
	var p *C.gisp_model
	err := w.finish(check(C.gisp_model_load_with_options(cdir, co, &p)))
	runtime.KeepAlive(s.token)
	runtime.KeepAlive(s.log)
	if err != nil {
		return nil, err
	}
	m := newModel(p)
	m.s, m.ownToken = s, own
	return m, nil
}

// Close frees the model. Safe to call more than once. Not while a pruner uses it.
func (m *Model) Close() {
	if m.p != nil {
		C.gisp_model_free(m.p)
		m.p = nil
		m.s = contextSettings{}
		runtime.SetFinalizer(m, nil)
	}
}

// ModelField is an integer property of a model's configuration (gisp_model_field).
type ModelField int

// Model fields.
const (
	FieldVocabSize         ModelField = 0
	FieldHiddenSize        ModelField = 1
	FieldNumLayers         ModelField = 2
	FieldNumHeads          ModelField = 3
	FieldNumKVHeads        ModelField = 4
	FieldHeadDim           ModelField = 5
	FieldIntermediateSize  ModelField = 6
	FieldTotalParameters   ModelField = 7 // current (pruned) widths
	FieldDecoderParameters ModelField = 8 // current widths, decoder layers only
	FieldMaxPositions      ModelField = 9
)

// Int reads one integer property (dense sizes; parameter counts follow the current widths).
func (m *Model) Int(f ModelField) (int64, error) {
	var v C.int64_t
	err := check(C.gisp_model_get_int(m.p, C.gisp_model_field(f), &v))
	runtime.KeepAlive(m)
	if err != nil {
		return 0, err
	}
	return int64(v), nil
}

func (m *Model) VocabSize() (int64, error)         { return m.Int(FieldVocabSize) }
func (m *Model) HiddenSize() (int64, error)        { return m.Int(FieldHiddenSize) }
func (m *Model) NumLayers() (int64, error)         { return m.Int(FieldNumLayers) }
func (m *Model) NumHeads() (int64, error)          { return m.Int(FieldNumHeads) }
func (m *Model) NumKVHeads() (int64, error)        { return m.Int(FieldNumKVHeads) }
func (m *Model) HeadDim() (int64, error)           { return m.Int(FieldHeadDim) }
func (m *Model) IntermediateSize() (int64, error)  { return m.Int(FieldIntermediateSize) }
func (m *Model) TotalParameters() (int64, error)   { return m.Int(FieldTotalParameters) }
func (m *Model) DecoderParameters() (int64, error) { return m.Int(FieldDecoderParameters) }
func (m *Model) MaxPositions() (int64, error)      { return m.Int(FieldMaxPositions) }

// ConfigJSON is config.json as gisp writes it (gisp_per_layer_config when pruned).
func (m *Model) ConfigJSON() (string, error) {
	var p *C.char
	err := check(C.gisp_model_config_json(m.p, &p))
	runtime.KeepAlive(m)
	if err != nil {
		return "", err
	}
	return takeString(p), nil
}

// Tokenize tokenizes text with the model's tokenizer (addSpecialTokens: its BOS etc.).
func (m *Model) Tokenize(text string, addSpecialTokens bool) ([]int32, error) {
	ctext := C.CString(text)
	defer C.free(unsafe.Pointer(ctext))
	var ids *C.int32_t
	var n C.size_t
	err := check(C.gisp_model_tokenize(m.p, ctext, C.bool(addSpecialTokens), &ids, &n))
	runtime.KeepAlive(m)
	if err != nil {
		return nil, err
	}
	defer C.gisp_tokens_free(ids)
	out := make([]int32, int(n))
	if n > 0 {
		copy(out, unsafe.Slice((*int32)(unsafe.Pointer(ids)), int(n)))
	}
	return out, nil
}

// Logits are the next-token logits of one sequence of token ids (no special tokens added),
// row-major [len(ids)][vocab].
func (m *Model) Logits(ids []int32) ([]float32, error) {
	vocab, err := m.VocabSize()
	if err != nil {
		return nil, err
	}
	out := make([]float32, len(ids)*int(vocab))
	var ip *C.int32_t
	var op *C.float
	if len(ids) > 0 {
		ip = (*C.int32_t)(unsafe.Pointer(&ids[0]))
	}
	if len(out) > 0 {
		op = (*C.float)(unsafe.Pointer(&out[0]))
	}
	err = check(C.gisp_model_logits(m.p, ip, C.size_t(len(ids)), op, C.size_t(len(out))))
	runtime.KeepAlive(m)
	runtime.KeepAlive(ids)
	runtime.KeepAlive(out)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Materialize slices the subnetwork of record r at completed step `step` from this original
// model. The new model runs under m's context (with a cancel token of its own when m's is the
// binding's).
func (m *Model) Materialize(ctx context.Context, r *Record, step int) (*Model, error) {
	w, err := m.watch(ctx)
	if err != nil {
		return nil, err
	}
	var p *C.gisp_model
	err = w.finish(check(C.gisp_model_materialize(m.p, r.p, C.int32_t(step), &p)))
	runtime.KeepAlive(m)
	runtime.KeepAlive(r)
	if err != nil {
		return nil, err
	}
	small := newModel(p)
	small.s = m.s
	if m.ownToken {
		// Do not share the binding's token: raising it for one model would stop the other.
		small.s.token = nil
		if err := small.ensureToken(); err != nil {
			small.Close()
			return nil, err
		}
	}
	return small, nil
}

// Export writes the model (dense or materialized) as an HF directory in dtype.
func (m *Model) Export(ctx context.Context, dir string, dtype DType) error {
	w, err := m.watch(ctx)
	if err != nil {
		return err
	}
	cdir := C.CString(dir)
	defer C.free(unsafe.Pointer(cdir))
	err = w.finish(check(C.gisp_model_export(m.p, cdir, C.gisp_dtype(dtype))))
	runtime.KeepAlive(m)
	return err
}

// ExportFormat is a deployment format (see docs/deploy.md).
type ExportFormat int

// Deployment formats.
const (
	ExportSliced ExportFormat = 0 // gisp's exact format; gisp loads it
	ExportLlama  ExportFormat = 1 // uniform HF checkpoint of the source family
	ExportGGUF   ExportFormat = 2 // llama.cpp
	ExportDeciLM ExportFormat = 3 // DeciLM / Nemotron-NAS (vLLM, TensorRT-LLM)
)

// ExportFormat writes the model as `format` into dir, a new or empty directory (all or
// nothing). It returns the written model's parameter count and the sliced model's own count.
func (m *Model) ExportFormat(ctx context.Context, dir string, format ExportFormat, dtype DType) (int64, int64, error) {
	w, err := m.watch(ctx)
	if err != nil {
		return 0, 0, err
	}
	cdir := C.CString(dir)
	defer C.free(unsafe.Pointer(cdir))
	var n, exact C.int64_t
	err = w.finish(check(C.gisp_model_export_format(m.p, C.gisp_export_format(format), cdir,
		C.gisp_dtype(dtype), &n, &exact)))
	runtime.KeepAlive(m)
	if err != nil {
		return 0, 0, err
	}
	return int64(n), int64(exact), nil
}

// Perplexity evaluates the paper's protocol on a text file: non-overlapping chunks of
// chunkTokens (0: 128), at most maxChunks (0: all). It returns the perplexity and the
// evaluated tokens.
func (m *Model) Perplexity(ctx context.Context, textPath string, chunkTokens, maxChunks int64) (float64, int64, error) {
	w, err := m.watch(ctx)
	if err != nil {
		return 0, 0, err
	}
	cpath := C.CString(textPath)
	defer C.free(unsafe.Pointer(cpath))
	var ppl C.double
	var n C.int64_t
	err = w.finish(check(C.gisp_eval_perplexity(m.p, cpath, C.int64_t(chunkTokens), C.int64_t(maxChunks), &ppl, &n)))
	runtime.KeepAlive(m)
	if err != nil {
		return 0, 0, err
	}
	return float64(ppl), int64(n), nil
}

// MultipleChoice is the zero-shot accuracy (lm-eval conventions) on {"context","choices",
// "label"} JSONL; limit > 0 evaluates the first limit items. It returns acc and acc_norm.
func (m *Model) MultipleChoice(ctx context.Context, jsonlPath string, limit int64) (acc, accNorm float64, err error) {
	w, err := m.watch(ctx)
	if err != nil {
		return 0, 0, err
	}
	cpath := C.CString(jsonlPath)
	defer C.free(unsafe.Pointer(cpath))
	var a, an C.double
	err = w.finish(check(C.gisp_eval_multiple_choice(m.p, cpath, C.int64_t(limit), &a, &an)))
	runtime.KeepAlive(m)
	if err != nil {
		return 0, 0, err
	}
	return float64(a), float64(an), nil
}
