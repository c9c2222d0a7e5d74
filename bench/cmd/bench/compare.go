package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
)

// compareRuns prints, from the JSON results of runs with different
// bundles, corral's ratio to each other runtime per metric and bundle,
// side by side: how corral's standing changes with the bundle.
func compareRuns(w io.Writer, paths []string) error {
	var runs []*results
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		r := &results{}
		if err := json.Unmarshal(data, r); err != nil {
			return fmt.Errorf("decode %s: %w", p, err)
		}
		runs = append(runs, r)
	}
	if len(runs) == 0 {
		return fmt.Errorf("no results to compare")
	}
	var others []string
	for _, r := range runs {
		for _, rt := range r.Runtimes {
			if rt.Name != "corral" && !slices.Contains(others, rt.Name) {
				others = append(others, rt.Name)
			}
		}
	}
	fmt.Fprintln(w, "\ncorral's median over each runtime's, per bundle (below 1: corral is faster or smaller)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"metric"}
	for _, r := range runs {
		for _, o := range others {
			head = append(head, fmt.Sprintf("%s: corral/%s", r.Settings.label(), o))
		}
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, m := range runs[0].Metrics {
		row := []string{fmt.Sprintf("%s (%s)", m.Title, m.Unit)}
		for _, r := range runs {
			rm := r.metric(m.Key)
			for _, o := range others {
				cell := "-"
				if rm != nil {
					if v, ok := rm.RatioToCorral[o]; ok {
						cell = fmt.Sprintf("%.2fx", v)
					}
				}
				row = append(row, cell)
			}
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	for _, r := range runs {
		fmt.Fprintf(w, "%s: %s; load average %s before, %s after\n", r.Settings.label(), r.Settings.Bundle, r.Machine.LoadStart, r.Machine.LoadEnd)
	}
	return nil
}

// label names the run's bundle: its -label, or its directory.
func (s settings) label() string {
	if s.Label != "" {
		return s.Label
	}
	return s.Bundle
}
