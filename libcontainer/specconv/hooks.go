package specconv

import (
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// convertHooks maps the six hook lists. A spec without hooks gives nil.
func convertHooks(h *specs.Hooks) (configs.Hooks, error) {
	if h == nil {
		return nil, nil
	}
	lists := []struct {
		field string
		name  configs.HookName
		hooks []specs.Hook
	}{
		// Deprecated in the spec, but configs still runs them, before
		// createRuntime, for the tools that only know them.
		//lint:ignore SA1019 prestart hooks are still part of the spec
		{"prestart", configs.Prestart, h.Prestart},
		{"createRuntime", configs.CreateRuntime, h.CreateRuntime},
		{"createContainer", configs.CreateContainer, h.CreateContainer},
		{"startContainer", configs.StartContainer, h.StartContainer},
		{"poststart", configs.Poststart, h.Poststart},
		{"poststop", configs.Poststop, h.Poststop},
	}
	var out configs.Hooks
	for _, l := range lists {
		for i, hook := range l.hooks {
			cmd, err := convertHook(fmt.Sprintf("hooks.%s[%d]", l.field, i), hook)
			if err != nil {
				return nil, err
			}
			if out == nil {
				out = make(configs.Hooks)
			}
			out[l.name] = append(out[l.name], configs.NewCommandHook(cmd))
		}
	}
	return out, nil
}

// convertHook checks what the spec requires of a hook: an absolute path
// (it is run without a $PATH search, and startContainer hooks resolve it
// inside the container) and a positive timeout.
func convertHook(field string, h specs.Hook) (configs.Command, error) {
	if !filepath.IsAbs(h.Path) {
		return configs.Command{}, fieldError(field+".path", "%q is not absolute", h.Path)
	}
	cmd := configs.Command{
		Path: h.Path,
		Args: slices.Clone(h.Args),
		Env:  slices.Clone(h.Env),
	}
	if h.Timeout != nil {
		if *h.Timeout <= 0 {
			return configs.Command{}, fieldError(field+".timeout", "%d is not positive", *h.Timeout)
		}
		// Far past any sensible timeout, and it keeps the multiplication
		// from overflowing time.Duration.
		const maxTimeout = int(time.Duration(1<<63-1) / time.Second)
		if *h.Timeout > maxTimeout {
			return configs.Command{}, fieldError(field+".timeout", "%d seconds is too long", *h.Timeout)
		}
		d := time.Duration(*h.Timeout) * time.Second
		cmd.Timeout = &d
	}
	return cmd, nil
}
