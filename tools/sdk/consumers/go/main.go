// Command prune_tiny is a Go program outside gisp's repository: it imports the binding by its
// module path (`#cgo pkg-config: gisp` finds the installed SDK), prunes the SDK's tiny model
// with the settings of tools/sdk/consumers/prune_tiny.c and saves the record.
//
//	prune_tiny MODEL_DIR CALIB_TEXT RECORD_OUT
package main

import (
	"context"
	"fmt"
	"os"

	gisp "github.com/gisp-project/gisp/bindings/go"
)

func run(modelDir, calib, recordOut string) error {
	ctx := context.Background()
	model, err := gisp.LoadModel(modelDir, gisp.CPU)
	if err != nil {
		return err
	}
	defer model.Close()
	data, err := gisp.TextWindows(ctx, model, calib, 64, 8, 0)
	if err != nil {
		return err
	}
	defer data.Close()
	config, err := gisp.NewPruneConfig(gisp.Ratio(0.5), gisp.Steps(3), gisp.BatchSize(4))
	if err != nil {
		return err
	}
	defer config.Close()
	pruner, err := gisp.NewPruner(model, data, config, nil)
	if err != nil {
		return err
	}
	defer pruner.Close()
	if err := pruner.Run(ctx, nil); err != nil {
		return err
	}
	record, err := pruner.Record()
	if err != nil {
		return err
	}
	defer record.Close()
	if err := record.Save(recordOut); err != nil {
		return err
	}
	fmt.Printf("gisp %s: record %s\n", gisp.Version(), recordOut)
	return nil
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: prune_tiny MODEL_DIR CALIB_TEXT RECORD_OUT")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
