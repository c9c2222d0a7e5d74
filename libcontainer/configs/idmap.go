package configs

import (
	"errors"
	"fmt"
)

// ErrNoMapping is returned when an id has no mapping on the host.
var ErrNoMapping = errors.New("id is not mapped")

// ToHost maps a container id onto the host through the mappings.
func ToHost(id int64, maps []IDMap) (int64, error) {
	for _, m := range maps {
		if id >= m.ContainerID && id-m.ContainerID < m.Size {
			return m.HostID + id - m.ContainerID, nil
		}
	}
	return -1, fmt.Errorf("container id %d: %w", id, ErrNoMapping)
}

// HostUID is the host uid of container uid id. Without a new user
// namespace the ids are the host's.
func (c *Config) HostUID(id int) (int, error) {
	if !c.Namespaces.Contains(NEWUSER) {
		return id, nil
	}
	h, err := ToHost(int64(id), c.UIDMappings)
	return int(h), err
}

// HostGID is the host gid of container gid id.
func (c *Config) HostGID(id int) (int, error) {
	if !c.Namespaces.Contains(NEWUSER) {
		return id, nil
	}
	h, err := ToHost(int64(id), c.GIDMappings)
	return int(h), err
}

// HostRootUID is the host uid of the container's root.
func (c *Config) HostRootUID() (int, error) { return c.HostUID(0) }

// HostRootGID is the host gid of the container's root group.
func (c *Config) HostRootGID() (int, error) { return c.HostGID(0) }
