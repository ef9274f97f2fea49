package gisp

// The progress trampoline lives alone: a file with //export may only declare C functions.

/*
#include <stdint.h>
#include "c_api/gisp.h"
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

//export gispGoProgress
func gispGoProgress(p *C.gisp_progress, user unsafe.Pointer) C.bool {
	h := cgo.Handle(*(*C.uintptr_t)(user))
	st := h.Value().(*callbackState)
	if st.progress != nil {
		st.progress(Progress{
			Step: int(C.gisp_progress_step(p)), Steps: int(C.gisp_progress_steps(p)),
			Batch: int64(C.gisp_progress_batch(p)), Batches: int64(C.gisp_progress_batches(p)),
			ElapsedSeconds: float64(C.gisp_progress_elapsed_seconds(p)),
			ETASeconds:     float64(C.gisp_progress_eta_seconds(p)),
			Sparsity:       float64(C.gisp_progress_sparsity(p)), Loss: float64(C.gisp_progress_loss(p)),
		})
	}
	return C.bool(st.ctx.Err() == nil)
}

