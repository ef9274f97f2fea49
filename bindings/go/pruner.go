package gisp

/*
#include <stdint.h>
#include <stdlib.h>
#include "c_api/gisp.h"
extern bool gispGoProgress(gisp_progress* progress, void* user);
static void gisp_go_set_callback(gisp_pruner* p, uintptr_t* slot) {
  gisp_pruner_set_progress_callback(p, (gisp_progress_fn)gispGoProgress, slot);
}
*/
import "C"

import (
	"context"
	"runtime"
	"runtime/cgo"
	"unsafe"
)

// Progress is a snapshot of a running pruner.
type Progress struct {
	Step, Steps                int
	Batch, Batches             int64
	ElapsedSeconds, ETASeconds float64
	Sparsity, Loss             float64
}

type callbackState struct {
	ctx      context.Context
	progress func(Progress)
}

// Pruner prunes a model in place. The model and calibration data must stay open while it exists.
type Pruner struct {
	p     *C.gisp_pruner
	model *Model
	data  *Calibration
}

// NewPruner creates a pruner; resume (may be nil) continues an earlier record.
func NewPruner(m *Model, data *Calibration, config *PruneConfig, resume *Record) (*Pruner, error) {
	var r *C.gisp_record
	if resume != nil {
		r = resume.p
	}
	var p *C.gisp_pruner
	if err := check(C.gisp_pruner_create(m.p, data.p, config.p, r, &p)); err != nil {
		return nil, err
	}
	pr := &Pruner{p: p, model: m, data: data}
	runtime.SetFinalizer(pr, (*Pruner).Close)
	return pr, nil
}

func (p *Pruner) Close() {
	if p.p != nil {
		C.gisp_pruner_free(p.p)
		p.p = nil
		runtime.SetFinalizer(p, nil)
	}
}

// SetCheckpoint writes the record to path after every completed step.
func (p *Pruner) SetCheckpoint(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	return check(C.gisp_pruner_set_checkpoint_path(p.p, cpath))
}

func (p *Pruner) call(ctx context.Context, progress func(Progress), fn func(*C.gisp_pruner) *C.gisp_status) error {
	h := cgo.NewHandle(&callbackState{ctx: ctx, progress: progress})
	defer h.Delete()
	// The handle value lives in C memory: C keeps the pointer during the call.
	slot := (*C.uintptr_t)(C.malloc(C.size_t(unsafe.Sizeof(C.uintptr_t(0)))))
	defer C.free(unsafe.Pointer(slot))
	*slot = C.uintptr_t(h)
	C.gisp_go_set_callback(p.p, slot)
	defer C.gisp_pruner_set_progress_callback(p.p, nil, nil)
	err := check(fn(p.p))
	if IsCode(err, Cancelled) && ctx.Err() != nil {
		return &Error{Code: Cancelled, Message: err.(*Error).Message + ": " + ctx.Err().Error()}
	}
	runtime.KeepAlive(p.model)
	runtime.KeepAlive(p.data)
	return err
}

// Run runs the remaining steps. Cancelling ctx stops after the current batch with a
// Cancelled error; the record keeps the completed steps. progress may be nil.
func (p *Pruner) Run(ctx context.Context, progress func(Progress)) error {
	return p.call(ctx, progress, func(x *C.gisp_pruner) *C.gisp_status { return C.gisp_pruner_run(x) })
}

// Step runs one step.
func (p *Pruner) Step(ctx context.Context, progress func(Progress)) error {
	return p.call(ctx, progress, func(x *C.gisp_pruner) *C.gisp_status { return C.gisp_pruner_step(x) })
}

func (p *Pruner) Done() bool    { return bool(C.gisp_pruner_done(p.p)) }
func (p *Pruner) NextStep() int { return int(C.gisp_pruner_next_step(p.p)) }

// Record returns a copy of the current record.
func (p *Pruner) Record() (*Record, error) {
	var r *C.gisp_record
	if err := check(C.gisp_pruner_record(p.p, &r)); err != nil {
		return nil, err
	}
	return newRecord(r), nil
}
