// Package gisp binds gisp, a native library that prunes Llama-family language models with
// Global Iterative Structured Pruning (GISP), through its C ABI (c_api/gisp.h).
//
//	model, err := gisp.LoadModel("llama-2-7b", gisp.CPU)
//	defer model.Close()
//	data, err := gisp.TextWindows(ctx, model, "c4.jsonl", 256, 2000, 0)
//	config, err := gisp.NewPruneConfig(gisp.Ratio(0.7), gisp.Steps(112))
//	pruner, err := gisp.NewPruner(model, data, config, nil)
//	err = pruner.Run(ctx, func(p gisp.Progress) { log.Println(p.Step, p.Sparsity) })
//	record, err := pruner.Record()
//
// Every object has Close(); a finalizer frees forgotten ones as a safety net. Objects may be
// used from any goroutine, one at a time; a CancelToken from any goroutine at any time.
//
// Errors are *Error values carrying the C status code. Long calls (loading, building
// calibration data, pruner steps and runs, evaluation, materializing, exporting) take a
// context.Context: when it is done during the call, the model's cancel token is raised (one is
// created for the model if its Context has none) and the call returns an *Error with code
// Cancelled that wraps ctx.Err(), so errors.Is(err, context.Canceled) holds.
//
// Building: the package links the installed gisp SDK through pkg-config (`#cgo pkg-config:
// gisp`). Install it with `bazel run //:install -- --prefix DIR` (or unpack a release archive),
// then build with PKG_CONFIG_PATH=DIR/lib/pkgconfig and run with DIR/lib on LD_LIBRARY_PATH.
//
// Services: a Context grants threads, a memory budget, a log function and a cancel token to
// the models that run under it (LoadWithOptions, Model.SetContext).
package gisp

/*
#cgo pkg-config: gisp
#include <stdint.h>
#include <stdlib.h>
#include <gisp/gisp.h>
extern void gispGoLog(gisp_log_level level, char* message, void* user);
static void gisp_go_set_log(int on, int min_level, uintptr_t handle) {
  gisp_set_log_callback(on ? (gisp_log_fn)gispGoLog : NULL, (gisp_log_level)min_level,
                        (void*)handle);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime/cgo"
	"sync"
)

// Code is a gisp status code (append-only).
type Code int

// Status codes (gisp_code).
const (
	OK                 Code = 0
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

// String is gisp's stable lower-case name of the code, e.g. "invalid_argument".
func (c Code) String() string { return C.GoString(C.gisp_code_name(C.gisp_code(c))) }

// Error is a failed gisp call: the code and a message naming the file, field or value.
type Error struct {
	Code    Code
	Message string
	// Cause is why a Cancelled call was cancelled from Go: the ctx.Err() of the call's
	// context.Context (context.Canceled or context.DeadlineExceeded); nil otherwise.
	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("gisp: [%s] %s (%v)", e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("gisp: [%s] %s", e.Code, e.Message)
}

// Unwrap returns Cause, so errors.Is(err, context.Canceled) works for a cancelled call.
func (e *Error) Unwrap() error { return e.Cause }

// IsCode reports whether err is (or wraps) a gisp *Error with the given code.
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

// PackageVersion is the gisp release this package belongs to (the repository's VERSION file;
// tools/release/set_version.py keeps it in step). Version() may be newer: the C ABI only grows.
const PackageVersion = "0.1.0"

// ABIVersion is the ABI this package was built for.
const ABIVersion = 1

// LoadedABIVersion is the ABI version of the library actually loaded.
func LoadedABIVersion() int { return int(C.gisp_abi_version()) }

func checkABI() error {
	if v := LoadedABIVersion(); v != ABIVersion {
		return &Error{Code: FailedPrecondition, Message: fmt.Sprintf("libgisp ABI %d, this package needs %d", v, ABIVersion)}
	}
	return nil
}

// Device selects where the working copy of a model lives.
type Device struct {
	kind  C.gisp_device
	index C.int
}

// CPU is the host.
var CPU = Device{C.GISP_DEVICE_CPU, 0}

// CUDA is the CUDA device with the given index.
func CUDA(index int) Device { return Device{C.GISP_DEVICE_CUDA, C.int(index)} }

// DType of working or exported weights.
type DType int

// Weight dtypes (gisp_dtype).
const (
	F32  DType = 0
	BF16 DType = 1
	F16  DType = 2
	Auto DType = 100
)

// LogLevel is the severity of a log message (gisp_log_level).
type LogLevel int

// Log levels.
const (
	LogDebug   LogLevel = 0
	LogInfo    LogLevel = 1
	LogWarning LogLevel = 2
	LogError   LogLevel = 3
)

func (l LogLevel) String() string {
	switch l {
	case LogDebug:
		return "debug"
	case LogInfo:
		return "info"
	case LogWarning:
		return "warning"
	case LogError:
		return "error"
	}
	return fmt.Sprintf("LogLevel(%d)", int(l))
}

// LogFunc receives a log message. It may be called from any thread inside a gisp call, so it
// must be safe for concurrent use, and must not call back into gisp on the same handles.
type LogFunc func(level LogLevel, message string)

var processLog struct {
	sync.Mutex
	handle cgo.Handle
}

// SetLogCallback installs the process-wide log function (nil: discard, the default). Messages
// below minLevel are dropped. Calls under a Context with its own log function log there instead.
func SetLogCallback(fn LogFunc, minLevel LogLevel) {
	processLog.Lock()
	defer processLog.Unlock()
	old := processLog.handle
	if fn == nil {
		C.gisp_go_set_log(0, C.int(minLevel), 0)
		processLog.handle = 0
	} else {
		h := cgo.NewHandle(fn)
		C.gisp_go_set_log(1, C.int(minLevel), C.uintptr_t(h))
		processLog.handle = h
	}
	// The library no longer uses the old user data once it is replaced.
	if old != 0 {
		old.Delete()
	}
}
