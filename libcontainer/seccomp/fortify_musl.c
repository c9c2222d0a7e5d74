//go:build musl && cgo

#include <stdarg.h>
#include <stdio.h>

/* __fprintf_chk is glibc's fortified fprintf. The check it adds is for
 * %n in a writable format string; libseccomp's formats are constants. */
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	va_list ap;
	int n;

	(void)flag;
	va_start(ap, fmt);
	n = vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}
