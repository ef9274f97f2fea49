// Command prune prunes a model with gisp:
//
//	go run ./examples/prune MODEL_DIR CALIB_TEXT OUT_DIR [-ratio 0.5] [-steps 8] [-target 0.3]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/gisp-project/gisp/bindings/go"
)

func main() {
	ratio := flag.Float64("ratio", 0.5, "fraction of units pruned at the last step")
	steps := flag.Int("steps", 8, "pruning steps")
	target := flag.Float64("target", 0.3, "decoder sparsity to export")
	flag.Parse()
	if flag.NArg() != 3 {
		fmt.Fprintln(os.Stderr, "usage: prune [flags] MODEL_DIR CALIB_TEXT OUT_DIR")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), flag.Arg(1), flag.Arg(2), *ratio, *steps, *target); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(modelDir, calib, out string, ratio float64, steps int, target float64) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	model, err := gisp.LoadModel(modelDir, gisp.CPU)
	if err != nil {
		return err
	}
	defer model.Close()
	data, err := gisp.TextWindows(ctx, model, calib, 128, 32, 0)
	if err != nil {
		return err
	}
	defer data.Close()
	config, err := gisp.NewPruneConfig(gisp.Ratio(ratio), gisp.Steps(steps), gisp.BatchSize(8))
	if err != nil {
		return err
	}
	defer config.Close()
	pruner, err := gisp.NewPruner(model, data, config, nil)
	if err != nil {
		return err
	}
	defer pruner.Close()
	err = pruner.Run(ctx, func(p gisp.Progress) {
		if p.Batch == p.Batches {
			fmt.Fprintf(os.Stderr, "step %d/%d  sparsity %.1f%%  loss %.4f\n", p.Step+1, p.Steps, 100*p.Sparsity, p.Loss)
		}
	})
	if err != nil {
		return err
	}
	record, err := pruner.Record()
	if err != nil {
		return err
	}
	step, err := record.NearestStep(target)
	if err != nil {
		return err
	}
	small, err := model.Materialize(ctx, record, step)
	if err != nil {
		return err
	}
	defer small.Close()
	if err := small.Export(ctx, out, gisp.Auto); err != nil {
		return err
	}
	params, err := small.TotalParameters()
	if err != nil {
		return err
	}
	fmt.Printf("step %d: %d parameters written to %s\n", step, params, out)
	return nil
}
