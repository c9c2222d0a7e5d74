//go:build musl && cgo

package seccomp

// Debian's libseccomp.a is compiled with _FORTIFY_SOURCE for glibc and
// calls __fprintf_chk, which musl does not have: fortify_musl.c provides
// it when corral is linked against musl (build.sh).

import "C"
