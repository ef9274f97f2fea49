package gisp

/*
#include <stdint.h>
#include <stdlib.h>
#include <gisp/gisp.h>
extern bool gispGoProgress(gisp_progress* progress, void* user);
static void gisp_go_set_callback(gisp_pruner* p, uintptr_t handle) {
  gisp_pruner_set_progress_callback(p, (gisp_progress_fn)gispGoProgress, (void*)handle);
}
*/
import "C"

import (
	"context"
	"encoding/json"
	"runtime"
	"runtime/cgo"
	"unsafe"
)

// Progress is a snapshot of a running pruner.
type Progress struct {
	Step, Steps                int     // step being computed, total steps
	Batch, Batches             int64   // batches done this step, batches per step
	ElapsedSeconds, ETASeconds float64 //
	Sparsity, Loss             float64 // after / of the last completed step
}

type callbackState struct {
	ctx      context.Context
	progress func(Progress)
}

// Pruner prunes a model in place. The model and calibration data must stay open while it
// exists (the pruner keeps them reachable).
type Pruner struct {
	p     *C.gisp_pruner
	model *Model
	data  *Calibration
}

// NewPruner creates a pruner; resume (may be nil) continues an earlier record of the same
// model, calibration set and configuration.
func NewPruner(m *Model, data *Calibration, config *PruneConfig, resume *Record) (*Pruner, error) {
	var r *C.gisp_record
	if resume != nil {
		r = resume.p
	}
	var p *C.gisp_pruner
	err := check(C.gisp_pruner_create(m.p, data.p, config.p, r, &p))
	runtime.KeepAlive(m)
	runtime.KeepAlive(data)
	runtime.KeepAlive(config)
	runtime.KeepAlive(resume)
	if err != nil {
		return nil, err
	}
	pr := &Pruner{p: p, model: m, data: data}
	runtime.SetFinalizer(pr, (*Pruner).Close)
	return pr, nil
}

// Close frees the pruner. Safe to call more than once.
func (p *Pruner) Close() {
	if p.p != nil {
		C.gisp_pruner_free(p.p)
		p.p = nil
		runtime.SetFinalizer(p, nil)
	}
}

// SetCheckpoint writes the record to path after every completed step ("": off).
func (p *Pruner) SetCheckpoint(path string) error {
	var cpath *C.char
	if path != "" {
		cpath = C.CString(path)
		defer C.free(unsafe.Pointer(cpath))
	}
	err := check(C.gisp_pruner_set_checkpoint_path(p.p, cpath))
	runtime.KeepAlive(p)
	return err
}

func (p *Pruner) call(ctx context.Context, progress func(Progress), fn func(*C.gisp_pruner) *C.gisp_status) error {
	if ctx == nil {
		ctx = context.Background()
	}
	w, err := p.model.watch(ctx)
	if err != nil {
		return err
	}
	h := cgo.NewHandle(&callbackState{ctx: ctx, progress: progress})
	defer h.Delete()
	C.gisp_go_set_callback(p.p, C.uintptr_t(h))
	err = w.finish(check(fn(p.p)))
	C.gisp_pruner_set_progress_callback(p.p, nil, nil)
	runtime.KeepAlive(p)
	runtime.KeepAlive(p.model)
	runtime.KeepAlive(p.data)
	return err
}

// Run runs the remaining steps and the final calibration loss. When ctx is done, or the
// model's cancel token is raised, it stops after the current batch with a Cancelled error; the
// record keeps the completed steps (valid, resumable). progress (may be nil) is called after
// every calibration batch on the running thread.
func (p *Pruner) Run(ctx context.Context, progress func(Progress)) error {
	return p.call(ctx, progress, func(x *C.gisp_pruner) *C.gisp_status { return C.gisp_pruner_run(x) })
}

// Step runs one step (FailedPrecondition when all are done).
func (p *Pruner) Step(ctx context.Context, progress func(Progress)) error {
	return p.call(ctx, progress, func(x *C.gisp_pruner) *C.gisp_status { return C.gisp_pruner_step(x) })
}

// Done reports whether every step has completed.
func (p *Pruner) Done() bool {
	v := bool(C.gisp_pruner_done(p.p))
	runtime.KeepAlive(p)
	return v
}

// NextStep is the index of the next step to run.
func (p *Pruner) NextStep() int {
	v := int(C.gisp_pruner_next_step(p.p))
	runtime.KeepAlive(p)
	return v
}

// TotalSteps is the configured number of steps.
func (p *Pruner) TotalSteps() int {
	v := int(C.gisp_pruner_total_steps(p.p))
	runtime.KeepAlive(p)
	return v
}

// NumUnits is the number of units the pruner ranks (heads or KV groups and MLP channels of
// every layer, protected ones included).
func (p *Pruner) NumUnits() int {
	v := int(C.gisp_pruner_num_units(p.p))
	runtime.KeepAlive(p)
	return v
}

// Record returns a copy of the current record.
func (p *Pruner) Record() (*Record, error) {
	var r *C.gisp_record
	err := check(C.gisp_pruner_record(p.p, &r))
	runtime.KeepAlive(p)
	if err != nil {
		return nil, err
	}
	return newRecord(r), nil
}

// Scores are the normalized unit scores of the last completed step, in record order (+Inf for
// protected units, 0 for pruned ones). FailedPrecondition before the first step.
func (p *Pruner) Scores() ([]float64, error) {
	n := p.NumUnits()
	out := make([]float64, n+1) // never empty, so &out[0] is valid
	var count C.size_t
	err := check(C.gisp_pruner_scores(p.p, (*C.double)(unsafe.Pointer(&out[0])), C.size_t(n), &count))
	runtime.KeepAlive(p)
	if err != nil {
		return nil, err
	}
	return out[:int(count)], nil
}

// StepTiming is the wall time of one completed step of this run, in seconds.
type StepTiming struct {
	Step              int     `json:"step"`
	Seconds           float64 `json:"seconds"` // the whole step
	GradientSeconds   float64 `json:"gradient_seconds"`
	ScoringSeconds    float64 `json:"scoring_seconds"`
	RankingSeconds    float64 `json:"ranking_seconds"`
	CompactionSeconds float64 `json:"compaction_seconds"`
}

// Timings are the per-step wall times of the steps this pruner ran.
func (p *Pruner) Timings() ([]StepTiming, error) {
	var s *C.char
	err := check(C.gisp_pruner_timings_json(p.p, &s))
	runtime.KeepAlive(p)
	if err != nil {
		return nil, err
	}
	// An array of gisp.proto's StepTiming in protobuf's JSON mapping.
	var out []StepTiming
	if err := json.Unmarshal([]byte(takeString(s)), &out); err != nil {
		return nil, &Error{Code: Internal, Message: "gisp_pruner_timings_json: " + err.Error()}
	}
	if out == nil {
		out = []StepTiming{}
	}
	return out, nil
}
