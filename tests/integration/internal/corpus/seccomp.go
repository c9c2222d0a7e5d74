package corpus

import (
	"encoding/json"
	"fmt"
	"slices"
)

// dockerProfile is the format of Docker's seccomp profiles
// (profiles/seccomp/default.json): rules that apply only with or without
// some capabilities, on some architectures.
type dockerProfile struct {
	DefaultAction   string `json:"defaultAction"`
	DefaultErrnoRet *int   `json:"defaultErrnoRet,omitempty"`
	ArchMap         []struct {
		Arch string   `json:"architecture"`
		Sub  []string `json:"subArchitectures"`
	} `json:"archMap"`
	Syscalls []struct {
		Names    []string          `json:"names"`
		Action   string            `json:"action"`
		ErrnoRet *int              `json:"errnoRet,omitempty"`
		Args     []json.RawMessage `json:"args"`
		Includes dockerFilter      `json:"includes"`
		Excludes dockerFilter      `json:"excludes"`
	} `json:"syscalls"`
}

type dockerFilter struct {
	Caps   []string `json:"caps"`
	Arches []string `json:"arches"`
}

// DockerSeccomp is the linux.seccomp object that dockerd writes into a
// config for a container with bounding capabilities caps on amd64, from
// a profile in Docker's format: the rules whose includes hold (every
// capability held, amd64 listed) and whose excludes do not (no
// capability held, amd64 not listed). minKernel is taken as met: every
// profile's is older than the kernels the corpus runs on.
func DockerSeccomp(profile []byte, caps []string) (map[string]any, error) {
	var p dockerProfile
	if err := json.Unmarshal(profile, &p); err != nil {
		return nil, fmt.Errorf("decode Docker seccomp profile: %w", err)
	}
	out := map[string]any{"defaultAction": p.DefaultAction}
	if p.DefaultErrnoRet != nil {
		out["defaultErrnoRet"] = *p.DefaultErrnoRet
	}
	for _, a := range p.ArchMap {
		if a.Arch == "SCMP_ARCH_X86_64" {
			out["architectures"] = append([]string{a.Arch}, a.Sub...)
		}
	}
	var rules []any
	for _, s := range p.Syscalls {
		ok := !slices.ContainsFunc(s.Includes.Caps, func(c string) bool { return !slices.Contains(caps, c) })
		ok = ok && (len(s.Includes.Arches) == 0 || slices.Contains(s.Includes.Arches, "amd64"))
		ok = ok && !slices.ContainsFunc(s.Excludes.Caps, func(c string) bool { return slices.Contains(caps, c) })
		ok = ok && !slices.Contains(s.Excludes.Arches, "amd64")
		if !ok {
			continue
		}
		r := map[string]any{"names": s.Names, "action": s.Action}
		if s.ErrnoRet != nil {
			r["errnoRet"] = *s.ErrnoRet
		}
		if len(s.Args) > 0 {
			r["args"] = s.Args
		}
		rules = append(rules, r)
	}
	out["syscalls"] = rules
	return out, nil
}

// WithSeccomp is the config raw with linux.seccomp replaced by seccomp.
func WithSeccomp(raw []byte, seccomp map[string]any) ([]byte, error) {
	spec, err := decode(raw)
	if err != nil {
		return nil, err
	}
	linux, ok := spec["linux"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("linux: missing")
	}
	linux["seccomp"] = seccomp
	return encode(spec)
}
