package criurpc

import (
	"errors"
	"fmt"
)

// The required fields of an answer, and of the messages in it, that a
// decoded answer has seen.
const (
	haveType = 1 << iota
	haveSuccess
	haveRestorePid
	haveVersionMajor
	haveVersionMinor
)

// UnmarshalResp decodes an answer of criu. It skips fields it does not
// know, and fails on malformed input, on a known field of the wrong wire
// type, on a type rpc.proto does not name, and on a required field
// missing. A message field that occurs twice is merged, and a scalar
// field that does takes the last value, as protobuf decodes them.
func UnmarshalResp(b []byte) (*Resp, error) {
	r := &Resp{}
	d := &decoder{b: b, msg: "criu_resp"}
	var have int
	for d.more() {
		num, t := d.tag()
		switch num {
		case 1:
			r.Type = ReqType(d.int32(t))
			if d.err == nil && !r.Type.known() {
				d.fail(fmt.Errorf("unknown request type %d", r.Type))
			}
			have |= haveType
		case 2:
			r.Success = d.bool(t)
			have |= haveSuccess
		case 3:
			if r.Dump == nil {
				r.Dump = &DumpResp{}
			}
			d.message(t, "criu_dump_resp", r.Dump.decode)
		case 4:
			if r.Restore == nil {
				r.Restore = &RestoreResp{}
			}
			d.message(t, "criu_restore_resp", func(d *decoder) { have |= r.Restore.decode(d) })
		case 5:
			if r.Notify == nil {
				r.Notify = &NotifyResp{}
			}
			d.message(t, "criu_notify", r.Notify.decode)
		case 6:
			if r.Ps == nil {
				r.Ps = &PageServerInfo{}
			}
			d.message(t, "criu_page_server_info", r.Ps.decode)
		case 7:
			r.CrErrno = d.int32(t)
		case 8:
			if r.Features == nil {
				r.Features = &Features{}
			}
			d.message(t, "criu_features", r.Features.decode)
		case 9:
			r.CrErrmsg = d.string(t)
		case 10:
			if r.Version == nil {
				r.Version = &VersionResp{}
			}
			d.message(t, "criu_version", func(d *decoder) { have |= r.Version.decode(d) })
		case 11:
			r.Status = d.int32(t)
		default:
			d.skip(num, t)
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	var missing string
	switch {
	case have&haveType == 0:
		missing = "criu_resp.type"
	case have&haveSuccess == 0:
		missing = "criu_resp.success"
	case r.Restore != nil && have&haveRestorePid == 0:
		missing = "criu_restore_resp.pid"
	case r.Version != nil && have&haveVersionMajor == 0:
		missing = "criu_version.major_number"
	case r.Version != nil && have&haveVersionMinor == 0:
		missing = "criu_version.minor_number"
	default:
		return r, nil
	}
	return nil, errors.New("required field " + missing + " not set")
}

func (m *DumpResp) decode(d *decoder) {
	for d.more() {
		switch num, t := d.tag(); num {
		case 1:
			m.Restored = d.bool(t)
		default:
			d.skip(num, t)
		}
	}
}

func (m *RestoreResp) decode(d *decoder) (have int) {
	for d.more() {
		switch num, t := d.tag(); num {
		case 1:
			m.Pid = d.int32(t)
			have |= haveRestorePid
		default:
			d.skip(num, t)
		}
	}
	return have
}

func (m *NotifyResp) decode(d *decoder) {
	for d.more() {
		switch num, t := d.tag(); num {
		case 1:
			m.Script = d.string(t)
		case 2:
			m.Pid = d.int32(t)
		default:
			d.skip(num, t)
		}
	}
}

func (m *PageServerInfo) decode(d *decoder) {
	for d.more() {
		switch num, t := d.tag(); num {
		case 1:
			m.Address = d.string(t)
		case 2:
			m.Port = d.int32(t)
		case 3:
			m.Pid = d.int32(t)
		case 4:
			m.Fd = d.int32(t)
		default:
			d.skip(num, t)
		}
	}
}

func (m *Features) decode(d *decoder) {
	for d.more() {
		switch num, t := d.tag(); num {
		case 1:
			m.MemTrack = d.flag(t)
		case 2:
			m.LazyPages = d.flag(t)
		case 3:
			m.PidfdStore = d.flag(t)
		default:
			d.skip(num, t)
		}
	}
}

func (m *VersionResp) decode(d *decoder) (have int) {
	for d.more() {
		switch num, t := d.tag(); num {
		case 1:
			m.Major = d.int32(t)
			have |= haveVersionMajor
		case 2:
			m.Minor = d.int32(t)
			have |= haveVersionMinor
		case 3:
			m.GitID = d.string(t)
		case 4:
			m.Sublevel = d.int32(t)
		case 5:
			m.Extra = d.int32(t)
		case 6:
			m.Name = d.string(t)
		default:
			d.skip(num, t)
		}
	}
	return have
}
