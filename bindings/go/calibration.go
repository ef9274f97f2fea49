package gisp

/*
#include <stdint.h>
#include <stdlib.h>
#include <gisp/gisp.h>
*/
import "C"

import (
	"context"
	"fmt"
	"runtime"
	"unsafe"
)

// Calibration holds calibration sequences.
type Calibration struct {
	p *C.gisp_calibration
	s contextSettings // the context of the model it was built from (keeps its log function)
}

func newCalibration(p *C.gisp_calibration, m *Model) *Calibration {
	c := &Calibration{p: p}
	if m != nil {
		c.s = m.s
	}
	runtime.SetFinalizer(c, (*Calibration).Close)
	return c
}

// Close frees the calibration set. Not while a pruner uses it.
func (c *Calibration) Close() {
	if c.p != nil {
		C.gisp_calibration_free(c.p)
		c.p = nil
		c.s = contextSettings{}
		runtime.SetFinalizer(c, nil)
	}
}

// Len is the number of sequences.
func (c *Calibration) Len() int {
	n := int(C.gisp_calibration_num_sequences(c.p))
	runtime.KeepAlive(c)
	return n
}

// buildFromModel runs one calibration builder on m under ctx.
func buildFromModel(ctx context.Context, m *Model, fn func() *C.gisp_status, out **C.gisp_calibration) (*Calibration, error) {
	w, err := m.watch(ctx)
	if err != nil {
		return nil, err
	}
	err = w.finish(check(fn()))
	runtime.KeepAlive(m)
	if err != nil {
		return nil, err
	}
	return newCalibration(*out, m), nil
}

// TextWindows samples count windows of windowTokens tokens from a text or JSONL file with
// seed, as the paper samples C4 (objective LM).
func TextWindows(ctx context.Context, m *Model, path string, windowTokens, count int64, seed uint64) (*Calibration, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var p *C.gisp_calibration
	return buildFromModel(ctx, m, func() *C.gisp_status {
		return C.gisp_calibration_text_windows(m.p, cpath, C.int64_t(windowTokens), C.int64_t(count), C.uint64_t(seed), &p)
	}, &p)
}

// QAJSONL reads {"question","answer"} pairs (objective AnswerOnly); limit > 0 keeps the first
// limit pairs.
func QAJSONL(ctx context.Context, m *Model, path string, limit int64) (*Calibration, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var p *C.gisp_calibration
	return buildFromModel(ctx, m, func() *C.gisp_status {
		return C.gisp_calibration_qa_jsonl(m.p, cpath, C.int64_t(limit), &p)
	}, &p)
}

// MultipleChoiceJSONL reads {"context","choices","label"} items (objective Margin).
func MultipleChoiceJSONL(ctx context.Context, m *Model, path string, limit int64) (*Calibration, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var p *C.gisp_calibration
	return buildFromModel(ctx, m, func() *C.gisp_status {
		return C.gisp_calibration_multiple_choice_jsonl(m.p, cpath, C.int64_t(limit), &p)
	}, &p)
}

// tokenArrays holds the C copies of token sequences, label masks and positive flags (C
// memory, so no Go pointer is stored in memory C reads).
type tokenArrays struct {
	n        int
	tokens   **C.int32_t
	lengths  *C.size_t
	masks    **C.uint8_t
	positive *C.uint8_t
	frees    []unsafe.Pointer
}

func (a *tokenArrays) alloc(bytes int) unsafe.Pointer {
	if bytes == 0 {
		bytes = 1
	}
	p := C.malloc(C.size_t(bytes))
	a.frees = append(a.frees, p)
	return p
}

func (a *tokenArrays) free() {
	for _, p := range a.frees {
		C.free(p)
	}
	a.frees = nil
}

func newTokenArrays(name string, sequences [][]int32, labelMasks [][]uint8, positive []uint8) (*tokenArrays, error) {
	n := len(sequences)
	if n == 0 {
		return nil, &Error{Code: InvalidArgument, Message: name + ": no sequences"}
	}
	if labelMasks != nil && len(labelMasks) != n {
		return nil, &Error{Code: InvalidArgument, Message: name + ": one label mask per sequence"}
	}
	if positive != nil && len(positive) != n {
		return nil, &Error{Code: InvalidArgument, Message: name + ": one positive flag per sequence"}
	}
	a := &tokenArrays{n: n}
	ptr := int(unsafe.Sizeof(uintptr(0)))
	tokens := unsafe.Slice((**C.int32_t)(a.alloc(n*ptr)), n)
	lengths := unsafe.Slice((*C.size_t)(a.alloc(n*int(unsafe.Sizeof(C.size_t(0))))), n)
	a.tokens, a.lengths = &tokens[0], &lengths[0]
	var masks []*C.uint8_t
	if labelMasks != nil {
		masks = unsafe.Slice((**C.uint8_t)(a.alloc(n*ptr)), n)
		a.masks = &masks[0]
	}
	for i, s := range sequences {
		buf := (*C.int32_t)(a.alloc(4 * len(s)))
		copy(unsafe.Slice((*int32)(unsafe.Pointer(buf)), len(s)), s)
		tokens[i], lengths[i] = buf, C.size_t(len(s))
		if masks != nil {
			if len(labelMasks[i]) != len(s) {
				a.free()
				return nil, &Error{Code: InvalidArgument, Message: fmt.Sprintf("%s: mask %d has %d entries for %d tokens", name, i, len(labelMasks[i]), len(s))}
			}
			mb := (*C.uint8_t)(a.alloc(len(s)))
			copy(unsafe.Slice((*uint8)(unsafe.Pointer(mb)), len(s)), labelMasks[i])
			masks[i] = mb
		}
	}
	if positive != nil {
		a.positive = (*C.uint8_t)(a.alloc(n))
		copy(unsafe.Slice((*uint8)(unsafe.Pointer(a.positive)), n), positive)
	}
	return a, nil
}

// FromTokens builds calibration data from token ids, unchecked against any model (prefer
// FromModelTokens). labelMasks (nil: every token after the first) marks with 1 the tokens whose
// prediction carries loss; positive (nil: all) marks correct candidates for Margin.
func FromTokens(sequences [][]int32, labelMasks [][]uint8, positive []uint8) (*Calibration, error) {
	a, err := newTokenArrays("FromTokens", sequences, labelMasks, positive)
	if err != nil {
		return nil, err
	}
	defer a.free()
	var p *C.gisp_calibration
	if err := check(C.gisp_calibration_from_tokens(C.size_t(a.n), a.tokens, a.lengths, a.masks, a.positive, &p)); err != nil {
		return nil, err
	}
	return newCalibration(p, nil), nil
}

// FromModelTokens is FromTokens checked against m while the data is built: every id inside
// the vocabulary, every sequence no longer than the model's maximum positions. The data runs
// under m's context.
func FromModelTokens(ctx context.Context, m *Model, sequences [][]int32, labelMasks [][]uint8, positive []uint8) (*Calibration, error) {
	a, err := newTokenArrays("FromModelTokens", sequences, labelMasks, positive)
	if err != nil {
		return nil, err
	}
	defer a.free()
	var p *C.gisp_calibration
	return buildFromModel(ctx, m, func() *C.gisp_status {
		return C.gisp_calibration_from_model_tokens(m.p, C.size_t(a.n), a.tokens, a.lengths, a.masks, a.positive, &p)
	}, &p)
}
