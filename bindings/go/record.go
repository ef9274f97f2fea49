package gisp

/*
#include <stdlib.h>
#include "c_api/gisp.h"
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Record is the record of a run: per-unit pruning steps, per-step sparsity and loss.
type Record struct{ p *C.gisp_record }

func newRecord(p *C.gisp_record) *Record {
	r := &Record{p}
	runtime.SetFinalizer(r, (*Record).Close)
	return r
}

func (r *Record) Close() {
	if r.p != nil {
		C.gisp_record_free(r.p)
		r.p = nil
		runtime.SetFinalizer(r, nil)
	}
}

// LoadRecord reads a binary or JSON record.
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

func (r *Record) Save(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	return check(C.gisp_record_save(r.p, cpath))
}

func (r *Record) Bytes() ([]byte, error) {
	var p *C.uint8_t
	var n C.size_t
	if err := check(C.gisp_record_to_bytes(r.p, &p, &n)); err != nil {
		return nil, err
	}
	defer C.gisp_buffer_free(p)
	return C.GoBytes(unsafe.Pointer(p), C.int(n)), nil
}

func (r *Record) JSON() (string, error) {
	var s *C.char
	if err := check(C.gisp_record_to_json(r.p, &s)); err != nil {
		return "", err
	}
	return takeString(s), nil
}

func (r *Record) NumSteps() int  { return int(C.gisp_record_num_steps(r.p)) }
func (r *Record) NumUnits() int  { return int(C.gisp_record_num_units(r.p)) }
func (r *Record) Complete() bool { return bool(C.gisp_record_complete(r.p)) }

// UnitSteps is, per unit, the step that pruned it or -1.
func (r *Record) UnitSteps() ([]int32, error) {
	out := make([]int32, r.NumUnits())
	if len(out) == 0 {
		return out, nil
	}
	err := check(C.gisp_record_unit_steps(r.p, (*C.int32_t)(unsafe.Pointer(&out[0])), C.size_t(len(out))))
	return out, err
}

// StepSparsity is the decoder sparsity after each completed step.
func (r *Record) StepSparsity() ([]float64, error) {
	out := make([]float64, r.NumSteps())
	if len(out) == 0 {
		return out, nil
	}
	err := check(C.gisp_record_step_sparsity(r.p, (*C.double)(unsafe.Pointer(&out[0])), C.size_t(len(out))))
	return out, err
}

// NearestStep is the completed step whose sparsity is nearest to target.
func (r *Record) NearestStep(target float64) (int, error) {
	var s C.int32_t
	if err := check(C.gisp_record_nearest_step(r.p, C.double(target), &s)); err != nil {
		return 0, err
	}
	return int(s), nil
}
