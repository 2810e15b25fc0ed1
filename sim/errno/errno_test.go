package errno

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestValues(t *testing.T) {
	// The real Linux x86 numbers; a typo in the const block must fail here.
	want := map[string]int{
		"EPERM": 1, "ENOENT": 2, "EINTR": 4, "EIO": 5, "ENXIO": 6,
		"EAGAIN": 11, "ENOMEM": 12, "EACCES": 13, "EBUSY": 16, "EEXIST": 17,
		"EINVAL": 22, "EFBIG": 27, "ENOSPC": 28, "EROFS": 30, "ERANGE": 34,
		"ENODATA": 61, "ETIMEDOUT": 110, "EREMOTEIO": 121, "EDQUOT": 122,
		"ENOMEDIUM": 123, "ENOKEY": 126, "EKEYEXPIRED": 127,
		"EKEYREVOKED": 128, "EKEYREJECTED": 129, "ERESTARTSYS": 512,
	}
	if len(All()) != len(want) {
		t.Fatalf("All() has %d errnos, want %d", len(All()), len(want))
	}
	for name, n := range want {
		e, err := Parse(name)
		if err != nil {
			t.Errorf("Parse(%q): %v", name, err)
			continue
		}
		if int(e) != n {
			t.Errorf("%s = %d, want %d", name, int(e), n)
		}
		if e.String() != name || e.Error() != name {
			t.Errorf("Errno(%d).String() = %q, Error() = %q, want %q", n, e.String(), e.Error(), name)
		}
		if e.Desc() == "" {
			t.Errorf("%s has no description", name)
		}
		if e.Neg() != -n {
			t.Errorf("%s.Neg() = %d, want %d", name, e.Neg(), -n)
		}
		if !e.Known() {
			t.Errorf("%s not Known", name)
		}
	}
	if EIO != 5 || ENOSPC != 28 || ERESTARTSYS != 512 || EDQUOT != 122 {
		t.Error("constants drifted")
	}
}

func TestAllOrderedAndCopied(t *testing.T) {
	a := All()
	if !slices.IsSorted(a) {
		t.Errorf("All() not in numeric order: %v", a)
	}
	a[0] = 999
	if All()[0] != EPERM {
		t.Error("All() returned shared storage")
	}
}

func TestUnknown(t *testing.T) {
	for _, e := range []Errno{0, 3, -5, 1000} {
		if e.Known() {
			t.Errorf("%d Known", int(e))
		}
		if got, want := e.String(), fmt.Sprintf("errno(%d)", int(e)); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
		if e.Desc() != "" {
			t.Errorf("Desc() of %d = %q", int(e), e.Desc())
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, msg string }{
		{"eio", `unknown errno "eio" (errno names are upper case: EIO)`},
		{"Enospc", `unknown errno "Enospc" (errno names are upper case: ENOSPC)`},
		{"EIOO", `unknown errno "EIOO"`},
		{"", `unknown errno ""`},
		{"5", `unknown errno "5"`},
		{" EIO", `unknown errno " EIO"`},
	} {
		e, err := Parse(tc.in)
		if err == nil {
			t.Errorf("Parse(%q) = %v, want error", tc.in, e)
			continue
		}
		if err.Error() != tc.msg {
			t.Errorf("Parse(%q) error = %q, want %q", tc.in, err, tc.msg)
		}
	}
}

func TestIsError(t *testing.T) {
	var err error = fmt.Errorf("writeback: %w", EIO)
	if !errors.Is(err, EIO) || errors.Is(err, ENOSPC) {
		t.Error("errors.Is does not see through wrapping")
	}
	var e Errno
	if !errors.As(err, &e) || e != EIO {
		t.Errorf("errors.As = %v", e)
	}
	if !strings.Contains(err.Error(), "EIO") {
		t.Error(err)
	}
}
