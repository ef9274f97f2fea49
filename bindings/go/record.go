package gisp

/*
#include <stdlib.h>
#include <gisp/gisp.h>
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Record is the record of a run: per-unit pruning steps, per-step sparsity and loss.
// A record may be read by several goroutines at once.
type Record struct{ p *C.gisp_record }

func newRecord(p *C.gisp_record) *Record {
	r := &Record{p}
	runtime.SetFinalizer(r, (*Record).Close)
	return r
}

// Close frees the record. Safe to call more than once.
func (r *Record) Close() {
	if r.p != nil {
		C.gisp_record_free(r.p)
		r.p = nil
		runtime.SetFinalizer(r, nil)
	}
}

// LoadRecord reads a binary or JSON record (recognized by content), validated on load.
func LoadRecord(path string) (*Record, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var p *C.gisp_record
	if err := check(C.gisp_record_load(cpath, &p)); err != nil {
		return nil, err
	}
	return newRecord(p), nil
}

// RecordFromBytes parses binary (or JSON) record bytes.
func RecordFromBytes(data []byte) (*Record, error) {
	var p *C.gisp_record
	var ptr *C.uint8_t
	if len(data) > 0 {
		buf := C.CBytes(data)
		defer C.free(buf)
		ptr = (*C.uint8_t)(buf)
	}
	if err := check(C.gisp_record_from_bytes(ptr, C.size_t(len(data)), &p)); err != nil {
		return nil, err
	}
	return newRecord(p), nil
}

// Save writes the record atomically: JSON when path ends in ".json", binary otherwise.
func (r *Record) Save(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	err := check(C.gisp_record_save(r.p, cpath))
	runtime.KeepAlive(r)
	return err
}

// Bytes is the binary protobuf form.
func (r *Record) Bytes() ([]byte, error) {
	var p *C.uint8_t
	var n C.size_t
	err := check(C.gisp_record_to_bytes(r.p, &p, &n))
	runtime.KeepAlive(r)
	if err != nil {
		return nil, err
	}
	defer C.gisp_buffer_free(p)
	return C.GoBytes(unsafe.Pointer(p), C.int(n)), nil
}

// JSON is the JSON form.
func (r *Record) JSON() (string, error) {
	var s *C.char
	err := check(C.gisp_record_to_json(r.p, &s))
	runtime.KeepAlive(r)
	if err != nil {
		return "", err
	}
	return takeString(s), nil
}

// NumSteps is the number of completed steps.
func (r *Record) NumSteps() int {
	v := int(C.gisp_record_num_steps(r.p))
	runtime.KeepAlive(r)
	return v
}

// NumUnits is the number of ranked units.
func (r *Record) NumUnits() int {
	v := int(C.gisp_record_num_units(r.p))
	runtime.KeepAlive(r)
	return v
}

// Complete reports whether every configured step completed.
func (r *Record) Complete() bool {
	v := bool(C.gisp_record_complete(r.p))
	runtime.KeepAlive(r)
	return v
}

// UnitSteps is, per unit (record order), the step that pruned it or -1.
func (r *Record) UnitSteps() ([]int32, error) {
	n := r.NumUnits()
	out := make([]int32, n+1)
	err := check(C.gisp_record_unit_steps(r.p, (*C.int32_t)(unsafe.Pointer(&out[0])), C.size_t(n)))
	runtime.KeepAlive(r)
	if err != nil {
		return nil, err
	}
	return out[:n], nil
}

func (r *Record) perStep(fn func(*C.double, C.size_t) *C.gisp_status) ([]float64, error) {
	n := r.NumSteps()
	out := make([]float64, n+1)
	err := check(fn((*C.double)(unsafe.Pointer(&out[0])), C.size_t(n)))
	runtime.KeepAlive(r)
	if err != nil {
		return nil, err
	}
	return out[:n], nil
}

// StepSparsity is the decoder sparsity after each completed step.
func (r *Record) StepSparsity() ([]float64, error) {
	return r.perStep(func(p *C.double, n C.size_t) *C.gisp_status { return C.gisp_record_step_sparsity(r.p, p, n) })
}

// StepLoss is the calibration loss of each completed step's gradient pass.
func (r *Record) StepLoss() ([]float64, error) {
	return r.perStep(func(p *C.double, n C.size_t) *C.gisp_status { return C.gisp_record_step_loss(r.p, p, n) })
}

// NearestStep is the completed step whose sparsity is nearest to target (OutOfRange if the run
// did not get there).
func (r *Record) NearestStep(target float64) (int, error) {
	var s C.int32_t
	err := check(C.gisp_record_nearest_step(r.p, C.double(target), &s))
	runtime.KeepAlive(r)
	if err != nil {
		return 0, err
	}
	return int(s), nil
}
