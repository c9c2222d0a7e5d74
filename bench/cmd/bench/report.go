package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// printReport writes the results as aligned tables: the figures, the
// targets, the runtimes and the machine, then the Go benchmarks.
func printReport(w io.Writer, r *results) {
	s := r.Settings
	fmt.Fprintf(w, "\nmedian [p10 .. p90] of %d interleaved iterations per runtime (throughput: %d batches)\n", s.N, s.Batches)
	m := r.Machine
	fmt.Fprintf(w, "machine: %s, %d cpus, %s, Linux %s, cgroup %s\n", m.CPU, m.NProc, m.MemTotal, m.Kernel, m.Cgroups)
	fmt.Fprintf(w, "date: %s; load average %s before, %s after\n", m.Date, m.LoadStart, m.LoadEnd)
	fmt.Fprintf(w, "bundle: %s (%s)\n\n", s.label(), s.Bundle)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"metric"}
	for _, rt := range r.Runtimes {
		head = append(head, rt.Name)
	}
	for _, rt := range r.Runtimes[1:] {
		head = append(head, "corral/"+rt.Name)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, m := range r.Metrics {
		row := []string{fmt.Sprintf("%s (%s)", m.Title, m.Unit)}
		for _, rt := range r.Runtimes {
			row = append(row, cell(m.Runtimes[rt.Name]))
		}
		for _, rt := range r.Runtimes[1:] {
			if v, ok := m.RatioToCorral[rt.Name]; ok {
				row = append(row, fmt.Sprintf("%.2fx", v))
			} else {
				row = append(row, "-")
			}
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "target (issue 7)\tcorral/x\tresult")
	for _, t := range r.Targets {
		ratio := "-"
		if t.Ratio > 0 {
			ratio = fmt.Sprintf("%.2fx", t.Ratio)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Name, ratio, t.Result)
	}
	tw.Flush()

	fmt.Fprintln(w)
	for _, rt := range r.Runtimes {
		fmt.Fprintf(w, "%-7s %s: %s, %.1f MiB, %s", rt.Name, rt.shortVersion(), rt.Binary, float64(rt.Size)/(1<<20), rt.Linking)
		if rt.Note != "" {
			fmt.Fprintf(w, "; %s", rt.Note)
		}
		fmt.Fprintln(w)
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	for _, m := range r.Metrics {
		for _, rt := range r.Runtimes {
			if s := m.Runtimes[rt.Name]; s.Failures > 0 {
				fmt.Fprintf(w, "failed: %s %s, %d times; first: %s\n", rt.Name, m.Key, s.Failures, s.FirstError)
			}
		}
	}

	if len(r.GoBench) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "go benchmark\tpackage\tns/op\tB/op\tallocs/op")
		for _, b := range r.GoBench {
			fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.0f\t%.0f\n", b.Name, b.Package, b.Metrics["ns/op"], b.Metrics["B/op"], b.Metrics["allocs/op"])
		}
		tw.Flush()
	}
}

// cell is "median [p10 .. p90]", or the failures when there are any.
func cell(s *summary) string {
	if s == nil || (s.N == 0 && s.Failures == 0) {
		return "-"
	}
	var b strings.Builder
	if s.N > 0 {
		b.WriteString(num(s.Median))
		if s.N > 1 {
			fmt.Fprintf(&b, " [%s .. %s]", num(s.P10), num(s.P90))
		}
	}
	if s.Failures > 0 {
		fmt.Fprintf(&b, " (%d failed)", s.Failures)
	}
	return strings.TrimSpace(b.String())
}

// num prints three significant figures or so: the noise is larger than
// any further digit.
func num(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}
