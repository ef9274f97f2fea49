// Package gisp binds gisp, a native library that prunes Llama-family language models with
// Global Iterative Structured Pruning (GISP), through its C ABI (c_api/gisp.h).
//
//	model, err := gisp.LoadModel("llama-2-7b", gisp.CPU)
//	defer model.Close()
//	data, err := gisp.TextWindows(model, "c4.jsonl", 256, 2000, 0)
//	config, err := gisp.NewPruneConfig(gisp.Ratio(0.7), gisp.Steps(112))
//	pruner, err := gisp.NewPruner(model, data, config, nil)
//	err = pruner.Run(ctx, func(p gisp.Progress) { log.Println(p.Step, p.Sparsity) })
//	record, err := pruner.Record()
//
// Every object has Close(); a finalizer frees forgotten ones as a safety net. Objects may be
// used from any goroutine, one at a time. Errors are *Error values carrying the C status code.
package gisp

/*
#cgo CFLAGS: -I${SRCDIR}/../..
#cgo LDFLAGS: -L${SRCDIR}/../../bazel-bin/c_api -lgisp -Wl,-rpath,${SRCDIR}/../../bazel-bin/c_api
#include <stdlib.h>
#include "c_api/gisp.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// Code is a gisp status code (append-only).
type Code int

const (
	InvalidArgument    Code = 1
	NotFound           Code = 2
	FailedPrecondition Code = 3
	OutOfRange         Code = 4
	Unimplemented      Code = 5
	Unavailable        Code = 6
	ResourceExhausted  Code = 7
	PermissionDenied   Code = 8
	Cancelled          Code = 9
	Internal           Code = 10
	DataLoss           Code = 11
	Unknown            Code = 12
)

func (c Code) String() string { return C.GoString(C.gisp_code_name(C.gisp_code(c))) }

// Error is a failed gisp call: the code and a message naming the file, field or value.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("gisp: [%s] %s", e.Code, e.Message) }

// IsCode reports whether err is a gisp *Error with the given code.
func IsCode(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

func check(s *C.gisp_status) error {
	if s == nil {
		return nil
	}
	defer C.gisp_status_free(s)
	return &Error{Code: Code(C.gisp_status_code(s)), Message: C.GoString(C.gisp_status_message(s))}
}

func takeString(p *C.char) string {
	defer C.gisp_string_free(p)
	return C.GoString(p)
}

// Version of the loaded library, e.g. "0.1.0".
func Version() string { return C.GoString(C.gisp_version_string()) }

// ABIVersion is the ABI this package was built for.
const ABIVersion = 1

func checkABI() error {
	if v := uint32(C.gisp_abi_version()); v != ABIVersion {
		return &Error{Code: FailedPrecondition, Message: fmt.Sprintf("libgisp ABI %d, this package needs %d", v, ABIVersion)}
	}
	return nil
}

// Device selects where the working copy of a model lives.
type Device struct {
	kind  C.gisp_device
	index C.int
}

var CPU = Device{C.GISP_DEVICE_CPU, 0}

func CUDA(index int) Device { return Device{C.GISP_DEVICE_CUDA, C.int(index)} }

// DType of exported weights.
type DType int

const (
	F32  DType = 0
	BF16 DType = 1
	F16  DType = 2
	Auto DType = 100
)

// Model is an HF Llama-family model: memory-mapped weights and a working copy on a device.
type Model struct{ p *C.gisp_model }

func newModel(p *C.gisp_model) *Model {
	m := &Model{p}
	runtime.SetFinalizer(m, (*Model).Close)
	return m
}

// LoadModel loads an HF model directory.
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

// Close frees the model. Safe to call more than once.
func (m *Model) Close() {
	if m.p != nil {
		C.gisp_model_free(m.p)
		m.p = nil
		runtime.SetFinalizer(m, nil)
	}
}

func (m *Model) get(f C.gisp_model_field) int64 {
	var v C.int64_t
	_ = check(C.gisp_model_get_int(m.p, f, &v))
	return int64(v)
}

func (m *Model) VocabSize() int64        { return m.get(C.GISP_MODEL_VOCAB_SIZE) }
func (m *Model) NumLayers() int64        { return m.get(C.GISP_MODEL_NUM_LAYERS) }
func (m *Model) HiddenSize() int64       { return m.get(C.GISP_MODEL_HIDDEN_SIZE) }
func (m *Model) TotalParameters() int64  { return m.get(C.GISP_MODEL_TOTAL_PARAMETERS) }
func (m *Model) DecoderParameters() int64 { return m.get(C.GISP_MODEL_DECODER_PARAMETERS) }

// ConfigJSON is config.json as gisp writes it (gisp_per_layer_config when pruned).
func (m *Model) ConfigJSON() (string, error) {
	var p *C.char
	if err := check(C.gisp_model_config_json(m.p, &p)); err != nil {
		return "", err
	}
	return takeString(p), nil
}

// Materialize slices the subnetwork of record at step from this original model.
func (m *Model) Materialize(r *Record, step int) (*Model, error) {
	var p *C.gisp_model
	if err := check(C.gisp_model_materialize(m.p, r.p, C.int32_t(step), &p)); err != nil {
		return nil, err
	}
	return newModel(p), nil
}

// Export writes the model as an HF directory.
func (m *Model) Export(dir string, dtype DType) error {
	cdir := C.CString(dir)
	defer C.free(unsafe.Pointer(cdir))
	return check(C.gisp_model_export(m.p, cdir, C.gisp_dtype(dtype)))
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
func (m *Model) ExportFormat(dir string, format ExportFormat, dtype DType) (int64, int64, error) {
	cdir := C.CString(dir)
	defer C.free(unsafe.Pointer(cdir))
	var n, exact C.int64_t
	if err := check(C.gisp_model_export_format(m.p, C.gisp_export_format(format), cdir,
		C.gisp_dtype(dtype), &n, &exact)); err != nil {
		return 0, 0, err
	}
	return int64(n), int64(exact), nil
}

// Perplexity evaluates the paper's protocol: (perplexity, evaluated tokens).
func (m *Model) Perplexity(textPath string, chunkTokens, maxChunks int64) (float64, int64, error) {
	cpath := C.CString(textPath)
	defer C.free(unsafe.Pointer(cpath))
	var ppl C.double
	var n C.int64_t
	if err := check(C.gisp_eval_perplexity(m.p, cpath, C.int64_t(chunkTokens), C.int64_t(maxChunks), &ppl, &n)); err != nil {
		return 0, 0, err
	}
	return float64(ppl), int64(n), nil
}

// Calibration holds calibration sequences.
type Calibration struct{ p *C.gisp_calibration }

func newCalibration(p *C.gisp_calibration) *Calibration {
	c := &Calibration{p}
	runtime.SetFinalizer(c, (*Calibration).Close)
	return c
}

func (c *Calibration) Close() {
	if c.p != nil {
		C.gisp_calibration_free(c.p)
		c.p = nil
		runtime.SetFinalizer(c, nil)
	}
}

func (c *Calibration) Len() int { return int(C.gisp_calibration_num_sequences(c.p)) }

// TextWindows samples count windows of windowTokens tokens (objective lm).
func TextWindows(m *Model, path string, windowTokens, count int64, seed uint64) (*Calibration, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var p *C.gisp_calibration
	if err := check(C.gisp_calibration_text_windows(m.p, cpath, C.int64_t(windowTokens), C.int64_t(count), C.uint64_t(seed), &p)); err != nil {
		return nil, err
	}
	return newCalibration(p), nil
}

// QAJSONL reads {"question","answer"} pairs (objective answer-only).
func QAJSONL(m *Model, path string, limit int64) (*Calibration, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var p *C.gisp_calibration
	if err := check(C.gisp_calibration_qa_jsonl(m.p, cpath, C.int64_t(limit), &p)); err != nil {
		return nil, err
	}
	return newCalibration(p), nil
}

// MultipleChoiceJSONL reads {"context","choices","label"} items (objective margin).
func MultipleChoiceJSONL(m *Model, path string, limit int64) (*Calibration, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var p *C.gisp_calibration
	if err := check(C.gisp_calibration_multiple_choice_jsonl(m.p, cpath, C.int64_t(limit), &p)); err != nil {
		return nil, err
	}
	return newCalibration(p), nil
}

// FromTokens builds calibration data from token ids (labelMasks and positive may be nil).
func FromTokens(sequences [][]int32, labelMasks [][]uint8, positive []uint8) (*Calibration, error) {
	n := len(sequences)
	if n == 0 {
		return nil, &Error{Code: InvalidArgument, Message: "FromTokens: no sequences"}
	}
	// The pointer arrays live in C memory so no Go pointer is stored in memory C reads.
	ptrSize := C.size_t(unsafe.Sizeof(uintptr(0)))
	tokens := (*[1 << 28]*C.int32_t)(C.malloc(C.size_t(n) * ptrSize))[:n:n]
	lengths := (*[1 << 28]C.size_t)(C.malloc(C.size_t(n) * C.size_t(unsafe.Sizeof(C.size_t(0)))))[:n:n]
	defer C.free(unsafe.Pointer(&tokens[0]))
	defer C.free(unsafe.Pointer(&lengths[0]))
	var masks []*C.uint8_t
	if labelMasks != nil {
		if len(labelMasks) != n {
			return nil, &Error{Code: InvalidArgument, Message: "FromTokens: one label mask per sequence"}
		}
		masks = (*[1 << 28]*C.uint8_t)(C.malloc(C.size_t(n) * ptrSize))[:n:n]
		defer C.free(unsafe.Pointer(&masks[0]))
	}
	for i, s := range sequences {
		buf := (*C.int32_t)(C.malloc(C.size_t(len(s)+1) * 4))
		defer C.free(unsafe.Pointer(buf))
		copy((*[1 << 28]int32)(unsafe.Pointer(buf))[:len(s):len(s)], s)
		tokens[i] = buf
		lengths[i] = C.size_t(len(s))
		if masks != nil {
			if len(labelMasks[i]) != len(s) {
				return nil, &Error{Code: InvalidArgument, Message: fmt.Sprintf("FromTokens: mask %d has %d entries for %d tokens", i, len(labelMasks[i]), len(s))}
			}
			mb := (*C.uint8_t)(C.malloc(C.size_t(len(s) + 1)))
			defer C.free(unsafe.Pointer(mb))
			copy((*[1 << 28]uint8)(unsafe.Pointer(mb))[:len(s):len(s)], labelMasks[i])
			masks[i] = mb
		}
	}
	var maskArg **C.uint8_t
	if masks != nil {
		maskArg = &masks[0]
	}
	var posArg *C.uint8_t
	if positive != nil {
		if len(positive) != n {
			return nil, &Error{Code: InvalidArgument, Message: "FromTokens: one positive flag per sequence"}
		}
		pb := (*C.uint8_t)(C.malloc(C.size_t(n)))
		defer C.free(unsafe.Pointer(pb))
		copy((*[1 << 28]uint8)(unsafe.Pointer(pb))[:n:n], positive)
		posArg = pb
	}
	var p *C.gisp_calibration
	if err := check(C.gisp_calibration_from_tokens(C.size_t(n), (**C.int32_t)(unsafe.Pointer(&tokens[0])), &lengths[0], (**C.uint8_t)(unsafe.Pointer(maskArg)), posArg, &p)); err != nil {
		return nil, err
	}
	return newCalibration(p), nil
}
