// Package errno defines the Linux error numbers that the wbsim model passes
// around, with their real Linux x86 (and x86-64, and asm-generic) values.
//
// # Sign convention
//
// Kernel functions return negative error numbers (return -EIO;). Go code in
// wbsim uses positive Errno values: an Errno is a Go error, compared with ==
// or errors.Is, and the zero Errno means "no error". Model code that mirrors a
// kernel function returning an int negates where the kernel does, with
// [Errno.Neg] (-EIO as an int) and Errno(-ret) on the way back.
//
// # Names
//
// [Errno.String] gives the C name ("EIO"). [Parse] is its inverse and accepts
// exactly those upper-case names: scenario files and fault plans spell errnos
// as the kernel does, and one spelling keeps printed plans canonical. A
// lower-case name is rejected with a hint naming the upper-case one.
package errno

import (
	"fmt"
	"strconv"
	"strings"
)

// Errno is a Linux error number, positive, as in <asm-generic/errno-base.h>
// and <asm-generic/errno.h>, plus ERESTARTSYS from <linux/errno.h>. The zero
// value means no error.
type Errno int

// Linux error numbers (x86 values).
const (
	EPERM        Errno = 1   // Operation not permitted
	ENOENT       Errno = 2   // No such file or directory
	EINTR        Errno = 4   // Interrupted system call
	EIO          Errno = 5   // Input/output error
	ENXIO        Errno = 6   // No such device or address
	EAGAIN       Errno = 11  // Resource temporarily unavailable
	ENOMEM       Errno = 12  // Cannot allocate memory
	EACCES       Errno = 13  // Permission denied
	EBUSY        Errno = 16  // Device or resource busy
	EEXIST       Errno = 17  // File exists
	EINVAL       Errno = 22  // Invalid argument
	EFBIG        Errno = 27  // File too large
	ENOSPC       Errno = 28  // No space left on device
	EROFS        Errno = 30  // Read-only file system
	ERANGE       Errno = 34  // Numerical result out of range
	ENODATA      Errno = 61  // No data available
	ETIMEDOUT    Errno = 110 // Connection timed out
	EREMOTEIO    Errno = 121 // Remote I/O error
	EDQUOT       Errno = 122 // Disk quota exceeded
	ENOMEDIUM    Errno = 123 // No medium found
	ENOKEY       Errno = 126 // Required key not available
	EKEYEXPIRED  Errno = 127 // Key has expired
	EKEYREVOKED  Errno = 128 // Key has been revoked
	EKEYREJECTED Errno = 129 // Key was rejected by service

	// ERESTARTSYS is kernel-internal (include/linux/errno.h): a sleep was
	// interrupted by a signal and the system call should be restarted. It
	// never reaches user space.
	ERESTARTSYS Errno = 512
)

type info struct {
	name, desc string
}

var table = map[Errno]info{
	EPERM:        {"EPERM", "Operation not permitted"},
	ENOENT:       {"ENOENT", "No such file or directory"},
	EINTR:        {"EINTR", "Interrupted system call"},
	EIO:          {"EIO", "Input/output error"},
	ENXIO:        {"ENXIO", "No such device or address"},
	EAGAIN:       {"EAGAIN", "Resource temporarily unavailable"},
	ENOMEM:       {"ENOMEM", "Cannot allocate memory"},
	EACCES:       {"EACCES", "Permission denied"},
	EBUSY:        {"EBUSY", "Device or resource busy"},
	EEXIST:       {"EEXIST", "File exists"},
	EINVAL:       {"EINVAL", "Invalid argument"},
	EFBIG:        {"EFBIG", "File too large"},
	ENOSPC:       {"ENOSPC", "No space left on device"},
	EROFS:        {"EROFS", "Read-only file system"},
	ERANGE:       {"ERANGE", "Numerical result out of range"},
	ENODATA:      {"ENODATA", "No data available"},
	ETIMEDOUT:    {"ETIMEDOUT", "Connection timed out"},
	EREMOTEIO:    {"EREMOTEIO", "Remote I/O error"},
	EDQUOT:       {"EDQUOT", "Disk quota exceeded"},
	ENOMEDIUM:    {"ENOMEDIUM", "No medium found"},
	ENOKEY:       {"ENOKEY", "Required key not available"},
	EKEYEXPIRED:  {"EKEYEXPIRED", "Key has expired"},
	EKEYREVOKED:  {"EKEYREVOKED", "Key has been revoked"},
	EKEYREJECTED: {"EKEYREJECTED", "Key was rejected by service"},
	ERESTARTSYS:  {"ERESTARTSYS", "Restart system call (kernel-internal)"},
}

// all lists every known Errno in increasing numeric order.
var all = []Errno{
	EPERM, ENOENT, EINTR, EIO, ENXIO, EAGAIN, ENOMEM, EACCES, EBUSY, EEXIST,
	EINVAL, EFBIG, ENOSPC, EROFS, ERANGE, ENODATA, ETIMEDOUT, EREMOTEIO,
	EDQUOT, ENOMEDIUM, ENOKEY, EKEYEXPIRED, EKEYREVOKED, EKEYREJECTED,
	ERESTARTSYS,
}

var byName = func() map[string]Errno {
	m := make(map[string]Errno, len(table))
	for e, in := range table {
		m[in.name] = e
	}
	return m
}()

// All returns every Errno this package names, in increasing numeric order.
// The slice is a fresh copy.
func All() []Errno {
	return append([]Errno(nil), all...)
}

// Known reports whether e is one of the errnos this package names. The zero
// Errno is not known.
func (e Errno) Known() bool {
	_, ok := table[e]
	return ok
}

// String returns the C name, such as "EIO", or "errno(N)" for a value this
// package does not name (including 0).
func (e Errno) String() string {
	if in, ok := table[e]; ok {
		return in.name
	}
	return "errno(" + strconv.Itoa(int(e)) + ")"
}

// Error returns the C name, as String does, so that an Errno is an error and
// traces stay short and grep-able. Use Desc for the strerror text.
func (e Errno) Error() string { return e.String() }

// Desc returns the strerror(3) text, such as "Input/output error", or "" for
// a value this package does not name.
func (e Errno) Desc() string { return table[e].desc }

// Neg returns the kernel's return value for this error: -int(e), so that
// EIO.Neg() == -5.
func (e Errno) Neg() int { return -int(e) }

// Parse returns the Errno whose C name is name, such as "EIO". Names are
// upper case, exactly as in the kernel headers; "eio" is an error whose
// message names "EIO".
func Parse(name string) (Errno, error) {
	if e, ok := byName[name]; ok {
		return e, nil
	}
	if e, ok := byName[strings.ToUpper(name)]; ok {
		return 0, fmt.Errorf("unknown errno %q (errno names are upper case: %s)", name, e)
	}
	return 0, fmt.Errorf("unknown errno %q", name)
}
