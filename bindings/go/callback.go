package gisp

// The C-callable trampolines live alone: a file with //export may only declare C functions.
// Each receives a cgo.Handle as its user data (passed through C as an integer).

/*
#include <stdint.h>
#include <gisp/gisp.h>
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

//export gispGoProgress
func gispGoProgress(p *C.gisp_progress, user unsafe.Pointer) C.bool {
	st := cgo.Handle(uintptr(user)).Value().(*callbackState)
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

//export gispGoLog
func gispGoLog(level C.gisp_log_level, message *C.char, user unsafe.Pointer) {
	fn := cgo.Handle(uintptr(user)).Value().(LogFunc)
	fn(LogLevel(level), C.GoString(message))
}

//export gispGoLoadProgress
func gispGoLoadProgress(done, total C.int64_t, user unsafe.Pointer) C.bool {
	st := cgo.Handle(uintptr(user)).Value().(*loadProgress)
	keep := st.fn(int64(done), int64(total))
	return C.bool(keep && st.ctx.Err() == nil)
}

//export gispGoAllReduceF32
func gispGoAllReduceF32(data *C.float, count C.size_t, user unsafe.Pointer) C.int {
	ops := cgo.Handle(uintptr(user)).Value().(Collectives)
	return collectiveRC(func() error {
		return ops.AllReduceFloat32(unsafe.Slice((*float32)(unsafe.Pointer(data)), int(count)))
	})
}

//export gispGoAllReduceF64
func gispGoAllReduceF64(data *C.double, count C.size_t, user unsafe.Pointer) C.int {
	ops := cgo.Handle(uintptr(user)).Value().(Collectives)
	return collectiveRC(func() error {
		return ops.AllReduceFloat64(unsafe.Slice((*float64)(unsafe.Pointer(data)), int(count)))
	})
}

//export gispGoBroadcast
func gispGoBroadcast(data unsafe.Pointer, bytes C.size_t, root C.int32_t, user unsafe.Pointer) C.int {
	ops := cgo.Handle(uintptr(user)).Value().(Collectives)
	return collectiveRC(func() error {
		return ops.Broadcast(unsafe.Slice((*byte)(data), int(bytes)), int(root))
	})
}
