// Package criurpc encodes the requests the runtime sends to `criu swrk`
// and decodes criu's answers: the messages of CRIU's RPC protocol
// (rpc.proto, as go-criu v7 ships it) that the runtime uses, in the
// protobuf (proto2) wire format, with field numbers exactly those of
// rpc.proto.
//
// It stands in for go-criu's generated rpc package, whose init registers
// protobuf descriptors and whose use links protobuf's reflection runtime:
// a cost paid at every start of the binary, also by `corral run` and
// `corral exec`, which never talk to criu. This package has no init, no
// reflection and no protobuf import; its tests hold it to go-criu's
// encoding.
//
// Do not use it where the protobuf runtime is linked anyway, or for
// fields it does not have: go-criu's rpc package is complete.
package criurpc

import "strconv"

// ReqType is the kind of a request, and of the answer to it
// (criu_req_type).
type ReqType int32

const (
	Empty          ReqType = 0
	Dump           ReqType = 1
	Restore        ReqType = 2
	Check          ReqType = 3
	PreDump        ReqType = 4
	PageServer     ReqType = 5
	Notify         ReqType = 6
	CPUInfoDump    ReqType = 7
	CPUInfoCheck   ReqType = 8
	FeatureCheck   ReqType = 9
	Version        ReqType = 10
	WaitPid        ReqType = 11
	PageServerChld ReqType = 12
	SinglePreDump  ReqType = 13
)

var reqTypeNames = [...]string{
	Empty:          "EMPTY",
	Dump:           "DUMP",
	Restore:        "RESTORE",
	Check:          "CHECK",
	PreDump:        "PRE_DUMP",
	PageServer:     "PAGE_SERVER",
	Notify:         "NOTIFY",
	CPUInfoDump:    "CPUINFO_DUMP",
	CPUInfoCheck:   "CPUINFO_CHECK",
	FeatureCheck:   "FEATURE_CHECK",
	Version:        "VERSION",
	WaitPid:        "WAIT_PID",
	PageServerChld: "PAGE_SERVER_CHLD",
	SinglePreDump:  "SINGLE_PRE_DUMP",
}

// known reports whether t is a type rpc.proto names.
func (t ReqType) known() bool { return t >= 0 && int(t) < len(reqTypeNames) }

// String is the name rpc.proto gives the type ("DUMP", "PRE_DUMP", ...),
// as go-criu's String gives it; the number for a type it does not name.
func (t ReqType) String() string {
	if t.known() {
		return reqTypeNames[t]
	}
	return strconv.Itoa(int(t))
}

// Flag is one of criu's optional booleans. Criu tells a flag that was
// not sent from one sent false: a flag sent, either way, overrides what
// criu's configuration files say (/etc/criu/default.conf,
// ~/.criu/default.conf, $CRIU_CONFIG_FILE, which `criu swrk` reads too).
// The zero Flag, Unset, is not sent: criu's files or its default decide.
type Flag uint8

const (
	Unset Flag = iota
	Off
	On
)

// FlagOf is On for true and Off for false: the caller decides either way.
func FlagOf(b bool) Flag {
	if b {
		return On
	}
	return Off
}

// CgMode is what criu does with the tree's cgroups (criu_cg_mode). The
// zero CgMode, CgUnset, is not sent: criu's files or its default (soft)
// decide.
//
// Unlike ReqType, its values are not criu's numbers: criu numbers ignore
// 0, which must stay apart from "not sent". The number on the wire is
// the value minus one.
type CgMode int32

const (
	CgUnset   CgMode = iota
	CgIgnore         // IGNORE: leave cgroups alone
	CgNone           // CG_NONE: no properties
	CgProps          // PROPS: properties only
	CgSoft           // SOFT: properties of the cgroups criu creates
	CgFull           // FULL: every property
	CgStrict         // STRICT: full, and fail where a cgroup is missing
	CgDefault        // DEFAULT: criu's default, soft
)

var cgModeNames = [...]string{
	CgUnset:   "UNSET",
	CgIgnore:  "IGNORE",
	CgNone:    "CG_NONE",
	CgProps:   "PROPS",
	CgSoft:    "SOFT",
	CgFull:    "FULL",
	CgStrict:  "STRICT",
	CgDefault: "DEFAULT",
}

// String is the name rpc.proto gives the mode ("SOFT", ...), or "UNSET".
func (m CgMode) String() string {
	if m >= 0 && int(m) < len(cgModeNames) {
		return cgModeNames[m]
	}
	return "CgMode(" + strconv.Itoa(int(m)) + ")"
}

// Req is a request to criu (criu_req).
type Req struct {
	// Type is always sent.
	Type ReqType
	Opts *Opts
	// NotifySuccess answers a notification: false fails the request.
	NotifySuccess bool
	// KeepOpen keeps criu serving requests on the socket after this one.
	KeepOpen bool
	// Features are the features a FEATURE_CHECK asks about.
	Features *Features
	// Pid is the process a WAIT_PID waits for.
	Pid uint32
}

// Opts are the options of a dump, pre-dump or restore (criu_opts): the
// fields of rpc.proto the runtime uses, or may.
//
// ImagesDirFd is always sent. Other fields are sent only when they are
// not zero: a zero string, number or list, an Unset Flag and CgUnset
// leave the option to criu's configuration files and its defaults. Mind
// the defaults that are not zero: LogLevel 2 (callers that want another
// set it), GhostLimit 1 MiB, Timeout 10 s.
//
// Fds are of the caller unless the field says otherwise: criu opens them
// through /proc/<pid>/fd of the process at the other end of the socket.
type Opts struct {
	ImagesDirFd int32  // 1; -1 to use ImagesDir
	Pid         int32  // 2; the root of the tree to dump
	LogLevel    int32  // 9; criu's default is 2
	LogFile     string // 10; in the work directory, no '/'
	Root        string // 13
	ParentImg   string // 14; relative to the images directory
	WorkDirFd   int32  // 17; the images directory if 0
	GhostLimit  uint32 // 35
	EmptyNs     uint32 // 38; CLONE_NEW* flags
	Timeout     uint32 // 45; seconds

	FreezeCgroup    string // 44
	ConfigFile      string // 51; read after the request, overrides it
	LsmProfile      string // 53
	CgroupYard      string // 60
	LsmMountContext string // 63
	ImagesDir       string // 68; only when ImagesDirFd is -1

	LeaveRunning    Flag // 3
	ExtUnixSk       Flag // 4
	TcpEstablished  Flag // 5
	EvasiveDevices  Flag // 6
	ShellJob        Flag // 7
	FileLocks       Flag // 8
	NotifyScripts   Flag // 12; notifications over the socket
	TrackMem        Flag // 15
	AutoDedup       Flag // 16
	LinkRemap       Flag // 18
	ManageCgroups   Flag // 24
	RstSibling      Flag // 26; swrk only
	AutoExtMnt      Flag // 28
	ExtSharing      Flag // 29
	ExtMasters      Flag // 30
	TcpSkipInFlight Flag // 46
	WeakSysctls     Flag // 47
	LazyPages       Flag // 48
	OrphanPtsMaster Flag // 50
	TcpClose        Flag // 52

	ManageCgroupsMode CgMode // 34

	Ps        *PageServerInfo // 11
	Veths     []VethPair      // 19; deprecated by criu, use External
	ExtMnt    []ExtMountMap   // 23; deprecated by criu, use External
	CgRoot    []CgroupRoot    // 25
	InheritFd []InheritFd     // 27; swrk only
	SkipMnt   []string        // 31
	EnableFs  []string        // 32
	External  []string        // 37
	JoinNs    []JoinNamespace // 39
}

// PageServerInfo is where a page server listens (criu_page_server_info):
// in a request, the page server to send pages to; in an answer, the one
// criu started. Its fields are sent when not zero.
type PageServerInfo struct {
	Address string // 1
	Port    int32  // 2
	Pid     int32  // 3
	Fd      int32  // 4; of criu: a file the request passed
}

// VethPair names the host end of a veth pair (criu_veth_pair).
type VethPair struct {
	IfIn  string // 1
	IfOut string // 2
}

// ExtMountMap maps an external mount: on dump the mount point to a key,
// on restore the key to a host path (ext_mount_map).
type ExtMountMap struct {
	Key string // 1
	Val string // 2
}

// JoinNamespace has criu restore into an existing namespace
// (join_namespace).
type JoinNamespace struct {
	Ns       string // 1: "net", "uts", "ipc", ...
	NsFile   string // 2: a path or a pid
	ExtraOpt string // 3; sent when not empty
}

// InheritFd gives the restored tree a file of criu for the resource
// checkpointed under Key (inherit_fd).
type InheritFd struct {
	Key string // 1
	Fd  int32  // 2; of criu: a file the request passed
}

// CgroupRoot is where criu restores a controller's cgroups (cgroup_root).
//
// Ctrl is always sent, even empty: "" names the cgroup v2 hierarchy.
// (Criu reads a root without a controller as the root of all of them;
// this package cannot say that.)
type CgroupRoot struct {
	Ctrl string // 1
	Path string // 2
}

// Features are criu's optional features (criu_features). A FEATURE_CHECK
// asks about the features that are set, On, in the request; the answer
// has each of them On where criu and the kernel support it, Off where
// not. Unset in the answer means criu did not say.
type Features struct {
	MemTrack   Flag // 1
	LazyPages  Flag // 2
	PidfdStore Flag // 3
}

// Resp is criu's answer to a request, or a notification while it serves
// one (criu_resp).
type Resp struct {
	Type    ReqType // 1
	Success bool    // 2

	Dump     *DumpResp       // 3
	Restore  *RestoreResp    // 4
	Notify   *NotifyResp     // 5
	Ps       *PageServerInfo // 6
	CrErrno  int32           // 7; an errno, when Success is false
	Features *Features       // 8
	CrErrmsg string          // 9; criu's first error line, when Success is false
	Version  *VersionResp    // 10
	Status   int32           // 11; the wait status, for WAIT_PID
}

// DumpResp is the answer to a dump (criu_dump_resp).
type DumpResp struct {
	// Restored is set when a tree that dumped itself was restored.
	Restored bool // 1
}

// RestoreResp is the answer to a restore (criu_restore_resp).
type RestoreResp struct {
	// Pid is the restored root task, in criu's pid namespace.
	Pid int32 // 1
}

// NotifyResp is a notification (criu_notify): criu ran to a point where
// it would run its action scripts.
type NotifyResp struct {
	Script string // 1: "pre-dump", "post-restore", ...
	Pid    int32  // 2: the restored root task, for some scripts
}

// VersionResp is the answer to VERSION (criu_version).
type VersionResp struct {
	Major    int32  // 1
	Minor    int32  // 2
	GitID    string // 3; a build from git, between releases
	Sublevel int32  // 4
	Extra    int32  // 5
	Name     string // 6
}
