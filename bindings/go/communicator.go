package gisp

// Communicators: data-parallel pruning across processes (docs/scaling.md).

/*
#include <stdint.h>
#include <stdlib.h>
#include <gisp/gisp.h>
extern int gispGoAllReduceF32(float* data, size_t count, void* user);
extern int gispGoAllReduceF64(double* data, size_t count, void* user);
extern int gispGoBroadcast(void* data, size_t bytes, int32_t root, void* user);
// A C communicator whose functions call the Go Collectives behind `handle`.
static gisp_status* gisp_go_communicator(int32_t rank, int32_t size, uintptr_t handle,
                                         gisp_communicator** out) {
  gisp_communicator* c = NULL;
  gisp_status* s = gisp_communicator_create(rank, size, (void*)handle, &c);
  if (s == NULL) {
    s = gisp_communicator_set_all_reduce_f32(c, (gisp_all_reduce_f32_fn)gispGoAllReduceF32);
  }
  if (s == NULL) {
    s = gisp_communicator_set_all_reduce_f64(c, (gisp_all_reduce_f64_fn)gispGoAllReduceF64);
  }
  if (s == NULL) s = gisp_communicator_set_broadcast(c, (gisp_broadcast_fn)gispGoBroadcast);
  if (s != NULL) {
    gisp_communicator_free(c);
    return s;
  }
  *out = c;
  return NULL;
}
*/
import "C"

import (
	"errors"
	"runtime"
	"runtime/cgo"
	"strconv"
	"unsafe"
)

// Collectives are the collective operations of a job's ranks, supplied by the host (over MPI,
// for instance: MPI_Allreduce with MPI_SUM, MPI_Bcast). gisp calls them on every rank in the
// same order, on the goroutine making the gisp call. AllReduce* replaces data on every rank by
// the element-wise sum over all ranks (the same bits on every rank); Broadcast copies rank
// root's data into every other rank's. An error fails the gisp call with Unavailable, naming
// the code: a CollectiveError's value, -1 for any other error.
type Collectives interface {
	AllReduceFloat32(data []float32) error
	AllReduceFloat64(data []float64) error
	Broadcast(data []byte, root int) error
}

// CollectiveError is a transport's error code (an MPI error code, say), reported as is.
type CollectiveError int

func (e CollectiveError) Error() string {
	return "collective failed with code " + strconv.Itoa(int(e))
}

// collectiveRC is a collective's outcome as the C API's int (a panic counts as -1: it must not
// unwind through C).
func collectiveRC(f func() error) (rc C.int) {
	defer func() {
		if recover() != nil {
			rc = -1
		}
	}()
	err := f()
	if err == nil {
		return 0
	}
	var code CollectiveError
	if errors.As(err, &code) && code != 0 {
		return C.int(code)
	}
	return -1
}

// commOps owns the cgo.Handle a C communicator carries as user data. Every Go object whose C
// side may call the collectives (communicators, contexts, models) references it; its finalizer
// deletes the handle once none is left.
type commOps struct {
	h          cgo.Handle
	rank, size int32
}

func newCommOps(rank, size int, c Collectives) *commOps {
	o := &commOps{h: cgo.NewHandle(c), rank: int32(rank), size: int32(size)}
	runtime.SetFinalizer(o, func(o *commOps) { o.h.Delete() })
	return o
}

// build creates a C communicator over o; the caller frees it.
func (o *commOps) build() (*C.gisp_communicator, error) {
	var c *C.gisp_communicator
	err := check(C.gisp_go_communicator(C.int32_t(o.rank), C.int32_t(o.size), C.uintptr_t(o.h), &c))
	runtime.KeepAlive(o)
	return c, err
}

// Communicator is rank `rank` of a job of `size` ranks that prune one model together. Give it to
// the Context of the model on every rank (Context.SetCommunicator): every rank then loads the
// same model, builds the same calibration data and runs the same pruner calls, which become
// collective.
type Communicator struct {
	p   *C.gisp_communicator
	ops *commOps
}

// NewCommunicator creates the communicator of rank `rank` (0 <= rank < size) over ops.
func NewCommunicator(rank, size int, ops Collectives) (*Communicator, error) {
	if err := checkABI(); err != nil {
		return nil, err
	}
	o := newCommOps(rank, size, ops)
	p, err := o.build()
	if err != nil {
		return nil, err
	}
	c := &Communicator{p: p, ops: o}
	runtime.SetFinalizer(c, (*Communicator).Close)
	return c, nil
}

// Close frees the communicator; contexts and models keep what they need.
func (c *Communicator) Close() {
	if c.p != nil {
		C.gisp_communicator_free(c.p)
		c.p = nil
		runtime.SetFinalizer(c, nil)
	}
}

// Agree is collective: every rank passes the outcome of its own setup (nil: success) and gets
// the same answer, nil when every rank succeeded, else the lowest failed rank's error with its
// message prefixed "rank R of N: " (a non-gisp error counts as Unknown).
func (c *Communicator) Agree(local error) error {
	code, message := C.gisp_code(C.GISP_OK), ""
	if local != nil {
		code, message = C.gisp_code(C.GISP_UNKNOWN), local.Error()
		var e *Error
		if errors.As(local, &e) {
			code, message = C.gisp_code(e.Code), e.Message
		}
	}
	cmsg := C.CString(message)
	defer C.free(unsafe.Pointer(cmsg))
	err := check(C.gisp_communicator_agree(c.p, code, cmsg))
	runtime.KeepAlive(c)
	return err
}

// SetCommunicator makes the pruners of models under this context share their work with the
// other ranks of comm (nil: none). The context keeps its own copy.
func (c *Context) SetCommunicator(comm *Communicator) error {
	var p *C.gisp_communicator
	var ops *commOps
	if comm != nil {
		p, ops = comm.p, comm.ops
	}
	err := check(C.gisp_context_set_communicator(c.p, p))
	runtime.KeepAlive(c)
	runtime.KeepAlive(comm)
	if err == nil {
		c.s.comm = ops
	}
	return err
}
