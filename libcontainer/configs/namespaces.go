package configs

import "fmt"

// NamespaceType names a kind of Linux namespace.
type NamespaceType string

// The namespaces a container can create or join.
const (
	NEWNET    NamespaceType = "NEWNET"
	NEWPID    NamespaceType = "NEWPID"
	NEWNS     NamespaceType = "NEWNS"
	NEWUTS    NamespaceType = "NEWUTS"
	NEWIPC    NamespaceType = "NEWIPC"
	NEWUSER   NamespaceType = "NEWUSER"
	NEWCGROUP NamespaceType = "NEWCGROUP"
	NEWTIME   NamespaceType = "NEWTIME"
)

// NamespaceTypes lists every type in the order the runtime joins them:
// the user namespace first, so that the others are joined (or created)
// with the capabilities it grants.
func NamespaceTypes() []NamespaceType {
	return []NamespaceType{NEWUSER, NEWIPC, NEWUTS, NEWNET, NEWPID, NEWNS, NEWCGROUP, NEWTIME}
}

// File is the name of the namespace under /proc/<pid>/ns.
func (t NamespaceType) File() string {
	switch t {
	case NEWNET:
		return "net"
	case NEWNS:
		return "mnt"
	case NEWPID:
		return "pid"
	case NEWIPC:
		return "ipc"
	case NEWUSER:
		return "user"
	case NEWUTS:
		return "uts"
	case NEWCGROUP:
		return "cgroup"
	case NEWTIME:
		return "time"
	}
	return ""
}

// Valid reports whether t is a known namespace type.
func (t NamespaceType) Valid() bool { return t.File() != "" }

// Namespace is a namespace to create (Path empty) or to join (Path set).
type Namespace struct {
	Type NamespaceType `json:"type"`
	Path string        `json:"path,omitempty"`
}

// Namespaces is the list of a container's namespaces.
type Namespaces []Namespace

// Contains reports whether the list has a namespace of type t.
func (n Namespaces) Contains(t NamespaceType) bool {
	return n.index(t) >= 0
}

// PathOf returns the path of the namespace of type t, or "".
func (n Namespaces) PathOf(t NamespaceType) string {
	if i := n.index(t); i >= 0 {
		return n[i].Path
	}
	return ""
}

// IsPrivate reports whether the container gets a namespace of type t of
// its own: listed and not joined by path.
func (n Namespaces) IsPrivate(t NamespaceType) bool {
	i := n.index(t)
	return i >= 0 && n[i].Path == ""
}

// Add adds or replaces the namespace of type t.
func (n *Namespaces) Add(t NamespaceType, path string) {
	if i := n.index(t); i >= 0 {
		(*n)[i].Path = path
		return
	}
	*n = append(*n, Namespace{Type: t, Path: path})
}

// Remove drops the namespace of type t and reports whether it was there.
func (n *Namespaces) Remove(t NamespaceType) bool {
	i := n.index(t)
	if i < 0 {
		return false
	}
	*n = append((*n)[:i], (*n)[i+1:]...)
	return true
}

func (n Namespaces) index(t NamespaceType) int {
	for i, ns := range n {
		if ns.Type == t {
			return i
		}
	}
	return -1
}

// String formats the namespace for error messages.
func (ns Namespace) String() string {
	if ns.Path == "" {
		return string(ns.Type)
	}
	return fmt.Sprintf("%s at %s", ns.Type, ns.Path)
}
