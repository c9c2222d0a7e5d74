package configs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// HookName is a lifecycle point of the OCI runtime spec.
type HookName string

// The lifecycle points, in the order they run.
const (
	// Prestart is deprecated in the spec; it runs with CreateRuntime.
	Prestart HookName = "prestart"
	// CreateRuntime runs in the runtime's namespaces once the container's
	// namespaces exist, before pivot_root.
	CreateRuntime HookName = "createRuntime"
	// CreateContainer runs once the container's mounts are in place,
	// before pivot_root.
	CreateContainer HookName = "createContainer"
	// StartContainer runs inside the container right before the user
	// program is executed.
	StartContainer HookName = "startContainer"
	// Poststart runs in the runtime's namespaces after the user program
	// started.
	Poststart HookName = "poststart"
	// Poststop runs after the container is deleted.
	Poststop HookName = "poststop"
)

// HookNames lists every lifecycle point.
func HookNames() []HookName {
	return []HookName{Prestart, CreateRuntime, CreateContainer, StartContainer, Poststart, Poststop}
}

// Hooks maps each lifecycle point to the hooks that run there, in order.
type Hooks map[HookName][]Hook

// Hook is something run at a lifecycle point with the container's state.
type Hook interface {
	Run(state *specs.State) error
}

// Command is an external program run as a hook.
type Command struct {
	Path    string         `json:"path"`
	Args    []string       `json:"args,omitempty"`
	Env     []string       `json:"env,omitempty"`
	Dir     string         `json:"dir,omitempty"`
	Timeout *time.Duration `json:"timeout,omitempty"`
}

// CommandHook runs a Command with the state JSON on its stdin.
type CommandHook struct {
	Command
}

// NewCommandHook returns a hook that runs cmd.
func NewCommandHook(cmd Command) CommandHook { return CommandHook{Command: cmd} }

// ErrHookTimeout is returned when a hook outlives its timeout.
var ErrHookTimeout = errors.New("hook timed out")

// Run runs the command with the state as JSON on its stdin, killing it
// at its timeout.
func (c CommandHook) Run(state *specs.State) error {
	in, err := json.Marshal(state)
	if err != nil {
		return err
	}
	return c.RunWithState(in)
}

// RunWithState runs the command with state, the container's state already
// rendered as JSON, on its stdin, killing it at its timeout. The
// container's init runs its hooks so, with the state the runtime rendered:
// it builds no JSON codec of its own.
func (c Command) RunWithState(state []byte) error {
	ctx := context.Background()
	if c.Timeout != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *c.Timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, c.Path)
	if len(c.Args) > 0 {
		cmd.Args = c.Args
	}
	cmd.Env = c.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Dir = c.Dir
	// In a process group of its own, so that a timeout kills what the
	// hook started too, not only the hook.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.Stdin = bytes.NewReader(state)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	// Children that left the group may keep the output pipe open; do
	// not wait for them long past the kill.
	cmd.WaitDelay = 100 * time.Millisecond
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("%s: %w after %s", c.Path, ErrHookTimeout, *c.Timeout)
	}
	if err != nil {
		msg := bytes.TrimSpace(out.Bytes())
		if len(msg) > 0 {
			return fmt.Errorf("%s: %w: %s", c.Path, err, msg)
		}
		return fmt.Errorf("%s: %w", c.Path, err)
	}
	return nil
}

// Run runs every hook of the lifecycle point name, stopping at the first
// error.
func (h Hooks) Run(name HookName, state *specs.State) error {
	for i, hook := range h[name] {
		if err := hook.Run(state); err != nil {
			return fmt.Errorf("error running %s hook #%d: %w", name, i, err)
		}
	}
	return nil
}

// MarshalJSON stores command hooks; other Hook types cannot be stored.
func (h Hooks) MarshalJSON() ([]byte, error) {
	out := make(map[HookName][]Command, len(h))
	for name, hooks := range h {
		for _, hook := range hooks {
			switch c := hook.(type) {
			case CommandHook:
				out[name] = append(out[name], c.Command)
			case *CommandHook:
				out[name] = append(out[name], c.Command)
			default:
				return nil, fmt.Errorf("hooks.%s: cannot store a hook of type %T", name, hook)
			}
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads command hooks.
func (h *Hooks) UnmarshalJSON(b []byte) error {
	var in map[HookName][]Command
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*h = make(Hooks, len(in))
	for name, cmds := range in {
		for _, c := range cmds {
			(*h)[name] = append((*h)[name], CommandHook{Command: c})
		}
	}
	return nil
}
