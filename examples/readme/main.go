// Command readme runs the libcontainer README's sample, with only the
// import paths changed: a busybox container with hostname "testing", its
// root mapped to host uid 1000, a loopback interface, NOFILE 1025 and two
// capabilities, that runs "sh -c" with the script given as arguments and
// prints what the tests check.
//
//	readme ROOTFS [SCRIPT]
package main

import (
	"fmt"
	"os"
	"runtime"

	_ "github.com/opencontainers/cgroups/devices"
	devices "github.com/opencontainers/cgroups/devices/config"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
	_ "github.com/corral-oci/corral/libcontainer/nsenter"
	"github.com/corral-oci/corral/libcontainer/specconv"
)

func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		runtime.GOMAXPROCS(1)
		runtime.LockOSThread()
		libcontainer.Init() // never returns on success
		panic("--this line should have never been executed, congratulations--")
	}
}

const defaultScript = `echo hostname=$(hostname); echo uid=$(id -u); echo pid=$$; ` +
	`echo nofile=$(ulimit -n); grep Cap /proc/self/status; ip link show lo; ` +
	`if [ -e /proc/kcore ]; then echo kcore=$(wc -c < /proc/kcore); else echo kcore=absent; fi; ` +
	`echo firmware=$(ls /sys/firmware | wc -l); ` +
	`touch /proc/sys/kernel/hostname 2>&1 || echo proc-sys-readonly; ` +
	`cat /proc/self/uid_map`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: readme ROOTFS [SCRIPT]")
		os.Exit(2)
	}
	script := defaultScript
	if len(os.Args) > 2 {
		script = os.Args[2]
	}
	if err := run(os.Args[1], script); err != nil {
		fmt.Fprintln(os.Stderr, "readme:", err)
		os.Exit(1)
	}
}

func run(rootfs, script string) error {
	defaultMountFlags := unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV
	var devices []*devices.Rule
	for _, device := range specconv.AllowedDevices {
		devices = append(devices, &device.Rule)
	}
	config := &configs.Config{
		Rootfs: rootfs,
		Capabilities: &configs.Capabilities{
			Bounding:  []string{"CAP_KILL", "CAP_AUDIT_WRITE"},
			Effective: []string{"CAP_KILL", "CAP_AUDIT_WRITE"},
			Permitted: []string{"CAP_KILL", "CAP_AUDIT_WRITE"},
		},
		Namespaces: configs.Namespaces([]configs.Namespace{
			{Type: configs.NEWNS},
			{Type: configs.NEWUTS},
			{Type: configs.NEWIPC},
			{Type: configs.NEWPID},
			{Type: configs.NEWUSER},
			{Type: configs.NEWNET},
			{Type: configs.NEWCGROUP},
		}),
		Cgroups: &configs.Cgroup{
			Name:   "test-container",
			Parent: "system",
			Resources: &configs.Resources{
				MemorySwappiness: nil,
				Devices:          devices,
			},
		},
		MaskPaths:     []string{"/proc/kcore", "/sys/firmware"},
		ReadonlyPaths: []string{"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"},
		Devices:       specconv.AllowedDevices,
		Hostname:      "testing",
		Mounts: []*configs.Mount{
			{Source: "proc", Destination: "/proc", Device: "proc", Flags: defaultMountFlags},
			{Source: "tmpfs", Destination: "/dev", Device: "tmpfs", Flags: unix.MS_NOSUID | unix.MS_STRICTATIME, Data: "mode=755"},
			{Source: "devpts", Destination: "/dev/pts", Device: "devpts", Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: "newinstance,ptmxmode=0666,mode=0620,gid=5"},
			{Device: "tmpfs", Source: "shm", Destination: "/dev/shm", Data: "mode=1777,size=65536k", Flags: defaultMountFlags},
			{Source: "mqueue", Destination: "/dev/mqueue", Device: "mqueue", Flags: defaultMountFlags},
			{Source: "sysfs", Destination: "/sys", Device: "sysfs", Flags: defaultMountFlags | unix.MS_RDONLY},
		},
		UIDMappings: []configs.IDMap{{ContainerID: 0, HostID: 1000, Size: 65536}},
		GIDMappings: []configs.IDMap{{ContainerID: 0, HostID: 1000, Size: 65536}},
		Networks:    []*configs.Network{{Type: "loopback", Address: "127.0.0.1/0", Gateway: "localhost"}},
		Rlimits:     []configs.Rlimit{{Type: unix.RLIMIT_NOFILE, Hard: uint64(1025), Soft: uint64(1025)}},
	}

	root, err := os.MkdirTemp("", "corral-readme-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	container, err := libcontainer.Create(root, "container-id", config)
	if err != nil {
		return err
	}

	process := &libcontainer.Process{
		Args:   []string{"/bin/sh", "-c", script},
		Env:    []string{"PATH=/bin"},
		User:   "daemon",
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Init:   true,
	}
	err = container.Run(process)
	if err != nil {
		container.Destroy()
		return err
	}
	st, err := process.Wait() // wait for the process to finish
	if derr := container.Destroy(); derr != nil && err == nil {
		err = derr
	}
	if err != nil {
		return err
	}
	if !st.Success() {
		return fmt.Errorf("container program: %s", st)
	}
	return nil
}
