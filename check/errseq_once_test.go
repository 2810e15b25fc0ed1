package check

import (
	"testing"

	"github.com/wbsim/wbsim/sim/errno"
)

// errseq-once: a description opened after an error that no description has
// seen is owed it (errseq_sample returns 0 while ERRSEQ_SEEN is clear);
// once one description reported it, a later open owes nothing; a sync(2)
// that consumed AS_EIO does not count as seeing it. The other contracts
// judge the same events as they always did.
func TestErrseqOnceFreshOpen(t *testing.T) {
	for _, c := range []struct {
		name     string
		contract Contract
		reporter string // "", "fd" (an open description reports it), "sync" (sync consumes it)
		want     bool   // the fresh description's fsync returning 0 is a violation
	}{
		{"unseen error, linux-2.6", Linux26, "", true},
		{"unseen error, errseq (4.13)", Errseq, "", false},
		{"unseen error, errseq-once", ErrseqOnce, "", true},
		{"seen by a description, errseq-once", ErrseqOnce, "fd", false},
		{"seen by a description, linux-2.6", Linux26, "fd", false},
		{"consumed by sync, linux-2.6", Linux26, "sync", false},
		{"consumed by sync, errseq", Errseq, "sync", false},
		{"consumed by sync, errseq-once", ErrseqOnce, "sync", true},
	} {
		f := NewOracle(c.contract).NewFile("f")
		old := f.Open()
		f.WritebackError(errno.EIO)
		switch c.reporter {
		case "fd":
			if v := old.BeginFsync("old").End(errno.EIO.Neg()); v != nil {
				t.Fatalf("%s: %v", c.name, v)
			}
		case "sync":
			f.BeginSync().End(errno.EIO.Neg())
		}
		v := f.Open().BeginFsync("fresh").End(0)
		if got := v != nil; got != c.want {
			t.Errorf("%s: violation %v, want %v (%v)", c.name, got, c.want, v)
		}
		if v != nil && v.Invariant != InvFsyncError {
			t.Errorf("%s: invariant %s", c.name, v.Invariant)
		}
	}
}

// Under errseq-once every description open before the error is still owed
// it once, as under errseq; a fresh one is owed it only until someone saw
// it.
func TestErrseqOnceKeepsErrseq(t *testing.T) {
	f := NewOracle(ErrseqOnce).NewFile("f")
	a, b := f.Open(), f.Open()
	f.WritebackError(errno.EIO)
	if v := a.BeginFsync("a").End(errno.EIO.Neg()); v != nil {
		t.Fatal(v)
	}
	if v := b.BeginFsync("b").End(0); v == nil {
		t.Error("b was open before the error and never saw it: its fsync returning 0 is a violation")
	}
	if v := a.BeginFsync("a again").End(0); v != nil {
		t.Errorf("a saw the error once; its second fsync owes nothing: %v", v)
	}
	if c, err := ParseContract("errseq-once"); err != nil || c != ErrseqOnce {
		t.Errorf("ParseContract(errseq-once) = %q, %v", c, err)
	}
}
