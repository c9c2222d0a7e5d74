package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

func newPsCommand(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "ps [flags] <container-id> [ps options]",
		Short: "ps displays the processes running inside a container",
		Long: `List the processes of a container: the output of ps(1) (run on the host
with the given options, -ef by default) restricted to the container's
processes, or their host pids as a JSON array (--format json).`,
		Args:        checkArgs(1, -1, "the container id and optional ps options"),
		Annotations: map[string]string{annotationStopAtFirstArg: "true"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("--format: invalid value %q (want table or json)", format)
			}
			c, err := loadContainer(g, args[0])
			if err != nil {
				return err
			}
			pids, err := c.Processes()
			if err != nil {
				return withID("list the processes of", args[0], err)
			}
			if format == "json" {
				if pids == nil {
					pids = []int{}
				}
				return json.NewEncoder(os.Stdout).Encode(pids)
			}
			psArgs := args[1:]
			if len(psArgs) > 0 && psArgs[0] == "--" {
				psArgs = psArgs[1:]
			}
			if len(psArgs) == 0 {
				psArgs = []string{"-ef"}
			}
			return psTable(pids, psArgs)
		},
	}
	// Options after the container id are ps(1)'s.
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().StringVarP(&format, "format", "f", "table", "select one of: table or json")
	return cmd
}

// psTable prints ps(1)'s header and the lines of the container's
// processes, found by the PID column.
func psTable(pids []int, psArgs []string) error {
	out, err := exec.Command("ps", psArgs...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("ps %s: %w: %s", strings.Join(psArgs, " "), err, strings.TrimSpace(string(ee.Stderr)))
		}
		return fmt.Errorf("ps: %w", err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	col := -1
	for i, f := range strings.Fields(lines[0]) {
		if f == "PID" {
			col = i
			break
		}
	}
	if col < 0 {
		return errors.New("ps: no PID column in the output of ps; pass options that show it")
	}
	inContainer := make(map[int]bool, len(pids))
	for _, p := range pids {
		inContainer[p] = true
	}
	var b strings.Builder
	b.WriteString(lines[0])
	b.WriteByte('\n')
	for _, line := range lines[1:] {
		fields := strings.Fields(line)
		if col >= len(fields) {
			continue
		}
		if pid, err := strconv.Atoi(fields[col]); err == nil && inContainer[pid] {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	_, err = os.Stdout.WriteString(b.String())
	return err
}
