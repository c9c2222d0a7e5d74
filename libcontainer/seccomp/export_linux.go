//go:build linux && cgo

package seccomp

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"

	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// exportBPF returns the program libseccomp generated for f. libseccomp
// 2.6 hands it over in memory; older versions only write it to an fd,
// for which a memfd serves: no file on disk, and no pipe whose buffer a
// large program could fill before anyone reads it.
func exportBPF(f *libseccomp.ScmpFilter) ([]insn, error) {
	b, err := f.ExportBPFMem()
	if err != nil {
		if b, err = exportBPFFile(f); err != nil {
			return nil, fmt.Errorf("seccomp: export program: %w", err)
		}
	}
	// struct sock_filter in the host's byte order, 8 bytes each.
	if len(b) == 0 || len(b)%8 != 0 {
		return nil, fmt.Errorf("seccomp: export program: %d bytes is not a program", len(b))
	}
	prog := make([]insn, len(b)/8)
	for i := range prog {
		p := b[8*i:]
		prog[i] = insn{
			Code: binary.NativeEndian.Uint16(p),
			Jt:   p[2],
			Jf:   p[3],
			K:    binary.NativeEndian.Uint32(p[4:]),
		}
	}
	return prog, nil
}

func exportBPFFile(f *libseccomp.ScmpFilter) ([]byte, error) {
	fd, err := unix.MemfdCreate("seccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	file := os.NewFile(uintptr(fd), "memfd:seccomp-bpf")
	defer file.Close()
	if err := f.ExportBPF(file); err != nil {
		return nil, err
	}
	// libseccomp write(2)s from offset 0, so the offset is the size.
	size, err := file.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, err
	}
	b := make([]byte, size)
	if _, err := file.ReadAt(b, 0); err != nil {
		return nil, err
	}
	return b, nil
}
