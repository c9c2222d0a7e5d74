package configs

import "golang.org/x/sys/unix"

// CloneFlag is the CLONE_NEW* flag of the namespace type, 0 for an
// unknown type.
func (t NamespaceType) CloneFlag() uint32 {
	switch t {
	case NEWNET:
		return unix.CLONE_NEWNET
	case NEWPID:
		return unix.CLONE_NEWPID
	case NEWNS:
		return unix.CLONE_NEWNS
	case NEWUTS:
		return unix.CLONE_NEWUTS
	case NEWIPC:
		return unix.CLONE_NEWIPC
	case NEWUSER:
		return unix.CLONE_NEWUSER
	case NEWCGROUP:
		return unix.CLONE_NEWCGROUP
	case NEWTIME:
		return unix.CLONE_NEWTIME
	}
	return 0
}
