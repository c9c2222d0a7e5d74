package criurpc

// Marshal encodes the request, its fields in the order of their numbers
// as protobuf writes them.
func (r *Req) Marshal() []byte { return r.AppendMarshal(nil) }

// AppendMarshal appends the encoded request to b.
func (r *Req) AppendMarshal(b []byte) []byte {
	b = appendInt32(b, 1, int32(r.Type))
	if r.Opts != nil {
		b = appendMessage(b, 2, r.Opts.appendTo)
	}
	if r.NotifySuccess {
		b = appendBool(b, 3, true)
	}
	if r.KeepOpen {
		b = appendBool(b, 4, true)
	}
	if r.Features != nil {
		b = appendMessage(b, 5, r.Features.appendTo)
	}
	if r.Pid != 0 {
		b = appendUint32(b, 6, r.Pid)
	}
	return b
}

// Optional fields, appended when not zero.

func optInt32(b []byte, num int, v int32) []byte {
	if v == 0 {
		return b
	}
	return appendInt32(b, num, v)
}

func optUint32(b []byte, num int, v uint32) []byte {
	if v == 0 {
		return b
	}
	return appendUint32(b, num, v)
}

func optString(b []byte, num int, s string) []byte {
	if s == "" {
		return b
	}
	return appendString(b, num, s)
}

func optFlag(b []byte, num int, f Flag) []byte {
	if f == Unset {
		return b
	}
	return appendBool(b, num, f == On)
}

func appendStrings(b []byte, num int, ss []string) []byte {
	for _, s := range ss {
		b = appendString(b, num, s)
	}
	return b
}

func (o *Opts) appendTo(b []byte) []byte {
	b = appendInt32(b, 1, o.ImagesDirFd)
	b = optInt32(b, 2, o.Pid)
	b = optFlag(b, 3, o.LeaveRunning)
	b = optFlag(b, 4, o.ExtUnixSk)
	b = optFlag(b, 5, o.TcpEstablished)
	b = optFlag(b, 6, o.EvasiveDevices)
	b = optFlag(b, 7, o.ShellJob)
	b = optFlag(b, 8, o.FileLocks)
	b = optInt32(b, 9, o.LogLevel)
	b = optString(b, 10, o.LogFile)
	if o.Ps != nil {
		b = appendMessage(b, 11, o.Ps.appendTo)
	}
	b = optFlag(b, 12, o.NotifyScripts)
	b = optString(b, 13, o.Root)
	b = optString(b, 14, o.ParentImg)
	b = optFlag(b, 15, o.TrackMem)
	b = optFlag(b, 16, o.AutoDedup)
	b = optInt32(b, 17, o.WorkDirFd)
	b = optFlag(b, 18, o.LinkRemap)
	for i := range o.Veths {
		b = appendMessage(b, 19, o.Veths[i].appendTo)
	}
	for i := range o.ExtMnt {
		b = appendMessage(b, 23, o.ExtMnt[i].appendTo)
	}
	b = optFlag(b, 24, o.ManageCgroups)
	for i := range o.CgRoot {
		b = appendMessage(b, 25, o.CgRoot[i].appendTo)
	}
	b = optFlag(b, 26, o.RstSibling)
	for i := range o.InheritFd {
		b = appendMessage(b, 27, o.InheritFd[i].appendTo)
	}
	b = optFlag(b, 28, o.AutoExtMnt)
	b = optFlag(b, 29, o.ExtSharing)
	b = optFlag(b, 30, o.ExtMasters)
	b = appendStrings(b, 31, o.SkipMnt)
	b = appendStrings(b, 32, o.EnableFs)
	if o.ManageCgroupsMode != CgUnset {
		b = appendInt32(b, 34, int32(o.ManageCgroupsMode)-1)
	}
	b = optUint32(b, 35, o.GhostLimit)
	b = appendStrings(b, 37, o.External)
	b = optUint32(b, 38, o.EmptyNs)
	for i := range o.JoinNs {
		b = appendMessage(b, 39, o.JoinNs[i].appendTo)
	}
	b = optString(b, 44, o.FreezeCgroup)
	b = optUint32(b, 45, o.Timeout)
	b = optFlag(b, 46, o.TcpSkipInFlight)
	b = optFlag(b, 47, o.WeakSysctls)
	b = optFlag(b, 48, o.LazyPages)
	b = optFlag(b, 50, o.OrphanPtsMaster)
	b = optString(b, 51, o.ConfigFile)
	b = optFlag(b, 52, o.TcpClose)
	b = optString(b, 53, o.LsmProfile)
	b = optString(b, 60, o.CgroupYard)
	b = optString(b, 63, o.LsmMountContext)
	b = optString(b, 68, o.ImagesDir)
	return b
}

func (p *PageServerInfo) appendTo(b []byte) []byte {
	b = optString(b, 1, p.Address)
	b = optInt32(b, 2, p.Port)
	b = optInt32(b, 3, p.Pid)
	return optInt32(b, 4, p.Fd)
}

func (v *VethPair) appendTo(b []byte) []byte {
	return appendString(appendString(b, 1, v.IfIn), 2, v.IfOut)
}

func (m *ExtMountMap) appendTo(b []byte) []byte {
	return appendString(appendString(b, 1, m.Key), 2, m.Val)
}

func (j *JoinNamespace) appendTo(b []byte) []byte {
	b = appendString(appendString(b, 1, j.Ns), 2, j.NsFile)
	return optString(b, 3, j.ExtraOpt)
}

func (f *InheritFd) appendTo(b []byte) []byte {
	return appendInt32(appendString(b, 1, f.Key), 2, f.Fd)
}

func (c *CgroupRoot) appendTo(b []byte) []byte {
	return appendString(appendString(b, 1, c.Ctrl), 2, c.Path)
}

func (f *Features) appendTo(b []byte) []byte {
	b = optFlag(b, 1, f.MemTrack)
	b = optFlag(b, 2, f.LazyPages)
	return optFlag(b, 3, f.PidfdStore)
}
