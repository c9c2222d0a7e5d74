package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"github.com/spf13/cobra"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/apparmor"
	"github.com/corral-oci/corral/libcontainer/capabilities"
	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/label"
	"github.com/corral-oci/corral/libcontainer/seccomp"
	"github.com/corral-oci/corral/libcontainer/specconv"
)

// The annotations of `features` that are corral's own.
const (
	annotationVersion    = "io.github.corral-oci.corral.version"
	annotationCommit     = "io.github.corral-oci.corral.commit"
	annotationCheckpoint = "io.github.corral-oci.corral.checkpoint.enabled"
	// annotationLibseccomp is the key runc and crun use too.
	annotationLibseccomp = "io.github.seccomp.libseccomp.version"
)

func newFeaturesCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "features",
		Short: "show the enabled features",
		Long: `Print, as the JSON of the OCI runtime spec's features document, what this
build of corral supports: spec versions, hooks, mount options, namespaces,
capabilities, cgroups, seccomp and the other Linux features.`,
		Args: checkArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "    ")
			return enc.Encode(runtimeFeatures())
		},
	}
}

// Whether this build applies linux.netDevices and linux.intelRdt. On a
// host without resctrl create refuses linux.intelRdt; the feature is
// built all the same, as runc reports it.
const (
	netDevicesBuilt = true
	intelRdtBuilt   = true
)

// memoryPolicyModes and memoryPolicyFlags are the linux.memoryPolicy
// modes and flags this build applies: all the runtime spec names.
var memoryPolicyModes, memoryPolicyFlags = specconv.MemoryPolicyModes(), specconv.MemoryPolicyFlags()

// potentiallyUnsafeAnnotations are the config annotations that change
// what corral does: "bundle" is the name of the label the runtime keeps
// the bundle's path under (exec reads the process defaults there, hooks
// get it in the state), so an engine should not pass one from its users;
// "org.criu.config" names a file criu reads as root on checkpoint and
// restore, whose options win over corral's. Prefixes end with a dot.
var potentiallyUnsafeAnnotations = []string{"bundle", libcontainer.CriuConfigAnnotation}

func intelRdtFeatures() *features.IntelRdt {
	return &features.IntelRdt{Enabled: ptr(intelRdtBuilt), Schemata: ptr(intelRdtBuilt), Monitoring: ptr(intelRdtBuilt)}
}

// memoryPolicyFeatures lists the modes and flags applied; empty lists say
// that none is.
func memoryPolicyFeatures() *features.MemoryPolicy {
	return &features.MemoryPolicy{Modes: memoryPolicyModes, Flags: memoryPolicyFlags}
}

func runtimeFeatures() *features.Features {
	yes := true
	f := &features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		MountOptions:  specconv.MountOptions(),
		Linux: &features.Linux{
			Capabilities: capabilities.Names(),
			Cgroup: &features.Cgroup{
				V1:          &yes,
				V2:          &yes,
				Systemd:     &yes,
				SystemdUser: &yes,
				Rdma:        &yes,
			},
			Seccomp: seccomp.Features(),
			// As runc: whether the host can apply a profile or label.
			Apparmor:        &features.Apparmor{Enabled: ptr(apparmor.IsEnabled())},
			Selinux:         &features.Selinux{Enabled: ptr(label.Enabled())},
			IntelRdt:        intelRdtFeatures(),
			MemoryPolicy:    memoryPolicyFeatures(),
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: &yes}},
			NetDevices:      &features.NetDevices{Enabled: ptr(netDevicesBuilt)},
		},
		Annotations: map[string]string{
			annotationVersion: version,
			annotationCommit:  commit(),
			// Built in: checkpoint and restore run criu (--criu).
			annotationCheckpoint: "true",
		},
		PotentiallyUnsafeConfigAnnotations: potentiallyUnsafeAnnotations,
	}
	for _, h := range configs.HookNames() {
		f.Hooks = append(f.Hooks, string(h))
	}
	for _, t := range configs.NamespaceTypes() {
		f.Linux.Namespaces = append(f.Linux.Namespaces, specNamespace(t))
	}
	if major, minor, micro, err := seccomp.Version(); err == nil {
		f.Annotations[annotationLibseccomp] = fmt.Sprintf("%d.%d.%d", major, minor, micro)
	}
	return f
}

// specNamespace is the runtime spec's name of a namespace type.
func specNamespace(t configs.NamespaceType) string {
	switch t {
	case configs.NEWNET:
		return string(specs.NetworkNamespace)
	case configs.NEWNS:
		return string(specs.MountNamespace)
	case configs.NEWPID:
		return string(specs.PIDNamespace)
	case configs.NEWIPC:
		return string(specs.IPCNamespace)
	case configs.NEWUSER:
		return string(specs.UserNamespace)
	case configs.NEWUTS:
		return string(specs.UTSNamespace)
	case configs.NEWCGROUP:
		return string(specs.CgroupNamespace)
	case configs.NEWTIME:
		return string(specs.TimeNamespace)
	}
	return string(t)
}

func ptr[T any](v T) *T { return &v }
