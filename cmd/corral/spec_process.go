package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/specconv"
)

// newProcess builds the libcontainer process of an OCI process. conv is
// sp converted by specconv (for init, the container's whole config): its
// rlimits, umask, scheduler, I/O priority and CPU affinity are already
// checked there, with errors that name the JSON field, so they are taken
// from it instead of being parsed twice.
//
// Stdio, extra files and the console are the caller's.
func newProcess(sp *specs.Process, conv *configs.Config) *libcontainer.Process {
	nnp := sp.NoNewPrivileges
	p := &libcontainer.Process{
		Args:            sp.Args,
		Env:             dedupEnv(sp.Env),
		Cwd:             sp.Cwd,
		User:            strconv.FormatUint(uint64(sp.User.UID), 10) + ":" + strconv.FormatUint(uint64(sp.User.GID), 10),
		NoNewPrivileges: &nnp,
		AppArmorProfile: sp.ApparmorProfile,
		Label:           sp.SelinuxLabel,
		Rlimits:         conv.Rlimits,
		Umask:           conv.Umask,
		Scheduler:       conv.Scheduler,
		IOPriority:      conv.IOPriority,
		CPUAffinity:     conv.ExecCPUAffinity,
	}
	if sp.Capabilities != nil {
		p.Capabilities = conv.Capabilities
	}
	for _, gid := range sp.User.AdditionalGids {
		p.AdditionalGroups = append(p.AdditionalGroups, strconv.FormatUint(uint64(gid), 10))
	}
	if cs := sp.ConsoleSize; cs != nil {
		p.ConsoleWidth, p.ConsoleHeight = uint16(cs.Width), uint16(cs.Height)
	}
	return p
}

// convertProcess checks an OCI process that is not part of a config.json
// (exec's) and converts its settings, by running specconv on the smallest
// spec around it: the checks and their errors stay in one place. The
// errors are about the process object itself, so the "process." prefix
// of the field paths goes.
func convertProcess(sp *specs.Process) (*configs.Config, error) {
	if err := checkProcess(sp); err != nil {
		return nil, err
	}
	spec := &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: "/"},
		Process: sp,
		Linux:   &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.MountNamespace}}},
	}
	conv, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{CgroupName: "exec", Spec: spec})
	var fe *specconv.FieldError
	if errors.As(err, &fe) {
		return nil, &specconv.FieldError{Field: strings.TrimPrefix(fe.Field, "process."), Reason: fe.Reason}
	}
	if err != nil {
		return nil, err
	}
	return conv, nil
}

// checkProcess is what the runtime spec requires of any process.
func checkProcess(sp *specs.Process) error {
	if len(sp.Args) == 0 {
		return errors.New("args: must not be empty")
	}
	if sp.Cwd == "" {
		return errors.New("cwd: must not be empty")
	}
	if !filepath.IsAbs(sp.Cwd) {
		return fmt.Errorf("cwd: %q is not an absolute path", sp.Cwd)
	}
	return nil
}
