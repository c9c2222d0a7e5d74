package specconv

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

func TestConvertMounts(t *testing.T) {
	wd := cwd(t)
	tests := []struct {
		name  string
		mount specs.Mount
		want  configs.Mount
	}{
		{
			name:  "flags set and cleared in order",
			mount: specs.Mount{Destination: "/a", Type: "tmpfs", Source: "tmpfs", Options: []string{"ro", "rw", "nosuid", "suid", "nodev", "exec", "noatime", "sync", "dirsync", "mand", "nodiratime", "relatime", "strictatime", "silent", "lazytime", "iversion", "nosymfollow", "size=1m", "mode=700"}},
			want: configs.Mount{
				Destination: "/a", Device: "tmpfs", Source: "tmpfs",
				Flags:        unix.MS_NODEV | unix.MS_NOATIME | unix.MS_SYNCHRONOUS | unix.MS_DIRSYNC | unix.MS_MANDLOCK | unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_STRICTATIME | unix.MS_SILENT | unix.MS_LAZYTIME | unix.MS_I_VERSION | unix.MS_NOSYMFOLLOW,
				ClearedFlags: unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NOEXEC,
				Data:         "size=1m,mode=700",
			},
		},
		{
			name:  "every clearing option",
			mount: specs.Mount{Destination: "/a", Type: "ext4", Source: "/dev/sda1", Options: []string{"rw", "suid", "dev", "exec", "async", "nomand", "atime", "diratime", "norelatime", "nostrictatime", "loud", "nolazytime", "noiversion", "symfollow"}},
			want: configs.Mount{
				Destination: "/a", Device: "ext4", Source: "/dev/sda1",
				ClearedFlags: unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_SYNCHRONOUS | unix.MS_MANDLOCK | unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_STRICTATIME | unix.MS_SILENT | unix.MS_LAZYTIME | unix.MS_I_VERSION | unix.MS_NOSYMFOLLOW,
			},
		},
		{
			name:  "a later set undoes a clear",
			mount: specs.Mount{Destination: "/a", Type: "tmpfs", Options: []string{"rw", "ro"}},
			want:  configs.Mount{Destination: "/a", Device: "tmpfs", Flags: unix.MS_RDONLY},
		},
		{
			name:  "rbind with a relative source and propagation",
			mount: specs.Mount{Destination: "/data", Type: "none", Source: "data", Options: []string{"rbind", "rprivate", "slave", "ro"}},
			want: configs.Mount{
				Destination: "/data", Device: "bind", Source: filepath.Join(wd, "data"),
				Flags:            unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY,
				PropagationFlags: []int{unix.MS_PRIVATE | unix.MS_REC, unix.MS_SLAVE},
			},
		},
		{
			name:  "bind type without a bind option",
			mount: specs.Mount{Destination: "/etc/hosts", Type: "bind", Source: "/etc/hosts"},
			want:  configs.Mount{Destination: "/etc/hosts", Device: "bind", Source: "/etc/hosts", Flags: unix.MS_BIND},
		},
		{
			name:  "every propagation",
			mount: specs.Mount{Destination: "/a", Options: []string{"private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable"}},
			want: configs.Mount{Destination: "/a", PropagationFlags: []int{
				unix.MS_PRIVATE, unix.MS_PRIVATE | unix.MS_REC, unix.MS_SHARED, unix.MS_SHARED | unix.MS_REC,
				unix.MS_SLAVE, unix.MS_SLAVE | unix.MS_REC, unix.MS_UNBINDABLE, unix.MS_UNBINDABLE | unix.MS_REC,
			}},
		},
		{
			name:  "remount without a type",
			mount: specs.Mount{Destination: "/a", Options: []string{"remount", "ro"}},
			want:  configs.Mount{Destination: "/a", Flags: unix.MS_REMOUNT | unix.MS_RDONLY},
		},
		{
			name:  "recursive attributes",
			mount: specs.Mount{Destination: "/a", Type: "bind", Source: "/a", Options: []string{"rbind", "rro", "rnosuid", "rsuid", "rnodev", "rnoexec", "rexec", "rnodiratime", "rnosymfollow", "rnoatime"}},
			want: configs.Mount{
				Destination: "/a", Device: "bind", Source: "/a", Flags: unix.MS_BIND | unix.MS_REC,
				RecAttr: &unix.MountAttr{
					Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NODIRATIME | unix.MOUNT_ATTR_NOSYMFOLLOW | unix.MOUNT_ATTR_NOATIME,
					Attr_clr: unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR__ATIME,
				},
			},
		},
		{
			name:  "recursive clears and the last atime wins",
			mount: specs.Mount{Destination: "/a", Type: "bind", Source: "/a", Options: []string{"rbind", "rrw", "rdev", "rdiratime", "rsymfollow", "rnoatime", "rstrictatime"}},
			want: configs.Mount{
				Destination: "/a", Device: "bind", Source: "/a", Flags: unix.MS_BIND | unix.MS_REC,
				RecAttr: &unix.MountAttr{
					Attr_set: unix.MOUNT_ATTR_STRICTATIME,
					Attr_clr: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NODIRATIME | unix.MOUNT_ATTR_NOSYMFOLLOW | unix.MOUNT_ATTR__ATIME,
				},
			},
		},
		{
			name:  "ratime rrelatime rnostrictatime mean relatime",
			mount: specs.Mount{Destination: "/a", Type: "bind", Source: "/a", Options: []string{"bind", "rnoatime", "ratime", "rnorelatime", "rrelatime"}},
			want: configs.Mount{
				Destination: "/a", Device: "bind", Source: "/a", Flags: unix.MS_BIND,
				RecAttr: &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RELATIME, Attr_clr: unix.MOUNT_ATTR__ATIME},
			},
		},
		{
			name:  "relative destination, tmpcopyup, ignored and relabel options",
			mount: specs.Mount{Destination: "tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "defaults", "Z"}},
			want:  configs.Mount{Destination: "/tmp", Device: "tmpfs", Source: "tmpfs", Relabel: "Z", TmpCopyUp: true},
		},
		{
			name: "idmap with its own mappings",
			mount: specs.Mount{
				Destination: "/a", Type: "bind", Source: "/a", Options: []string{"rbind", "ridmap"},
				UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 10}},
				GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 2000, Size: 20}},
			},
			want: configs.Mount{
				Destination: "/a", Device: "bind", Source: "/a", Flags: unix.MS_BIND | unix.MS_REC,
				IDMapping: &configs.MountIDMapping{
					Recursive:   true,
					UIDMappings: []configs.IDMap{{ContainerID: 0, HostID: 1000, Size: 10}},
					GIDMappings: []configs.IDMap{{ContainerID: 0, HostID: 2000, Size: 20}},
				},
			},
		},
		{
			name:  "mappings without an idmap option",
			mount: specs.Mount{Destination: "/a", Source: "/a", Options: []string{"bind"}, UIDMappings: []specs.LinuxIDMapping{{HostID: 5, Size: 1}}, GIDMappings: []specs.LinuxIDMapping{{HostID: 6, Size: 1}}},
			want: configs.Mount{
				Destination: "/a", Device: "bind", Source: "/a", Flags: unix.MS_BIND,
				IDMapping: &configs.MountIDMapping{
					UIDMappings: []configs.IDMap{{HostID: 5, Size: 1}},
					GIDMappings: []configs.IDMap{{HostID: 6, Size: 1}},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := Example()
			spec.Mounts = []specs.Mount{tt.mount}
			c := convert(t, spec)
			if !reflect.DeepEqual(*c.Mounts[0], tt.want) {
				t.Errorf("got  %+v\nwant %+v", *c.Mounts[0], tt.want)
			}
		})
	}
}

func TestIDMapBorrowsUserNamespace(t *testing.T) {
	spec := Example()
	spec.Linux.Namespaces = append(spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 200000, Size: 65536}}
	spec.Mounts = []specs.Mount{{Destination: "/a", Source: "/a", Options: []string{"bind", "idmap"}}}
	c := convert(t, spec)
	want := &configs.MountIDMapping{
		UIDMappings: []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}},
		GIDMappings: []configs.IDMap{{ContainerID: 0, HostID: 200000, Size: 65536}},
	}
	if !reflect.DeepEqual(c.Mounts[0].IDMapping, want) {
		t.Errorf("idmapping = %+v", c.Mounts[0].IDMapping)
	}
	if !reflect.DeepEqual(c.UIDMappings, want.UIDMappings) || !reflect.DeepEqual(c.GIDMappings, want.GIDMappings) {
		t.Errorf("user namespace mappings = %v %v", c.UIDMappings, c.GIDMappings)
	}
}

// TestIDMapJoinedUserNamespace: "idmap" alone in a container that joins a
// user namespace by path maps as that namespace does: no mappings in the
// config, the runtime takes the namespace itself.
func TestIDMapJoinedUserNamespace(t *testing.T) {
	spec := Example()
	spec.Linux.Namespaces = append(spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: "/proc/1/ns/user"})
	spec.Mounts = []specs.Mount{{Destination: "/a", Source: "/a", Options: []string{"rbind", "ridmap"}}}
	c := convert(t, spec)
	if want := (&configs.MountIDMapping{Recursive: true}); !reflect.DeepEqual(c.Mounts[0].IDMapping, want) {
		t.Errorf("idmapping = %+v, want %+v", c.Mounts[0].IDMapping, want)
	}
}
