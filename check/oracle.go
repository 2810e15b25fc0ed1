package check

import (
	"fmt"
	"slices"

	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// Invariant ids this package checks (the registry, scenarios.Invariants,
// gives their meanings).
const (
	InvReadCorrect  = "read-correct"
	InvFsyncDurable = "fsync-durable"
	InvFsyncError   = "fsync-error"
	InvCrash        = "crash"
	InvNoLostWrite  = "no-lost-write"
)

// Contract is the fsync error-reporting contract a run checks.
type Contract string

// The contract levels.
const (
	// Linux26 is the AS_EIO/AS_ENOSPC contract of Linux 2.6: a writeback
	// error is reported once, to the first fsync (on any file description)
	// that tests and clears the mapping's flag; later callers get 0.
	Linux26 Contract = "linux-2.6"
	// Errseq is the errseq_t contract of Linux 4.13 and later: every open
	// file description that was open when the error happened sees it once.
	Errseq Contract = "errseq"
	// ErrseqOnce is errseq_t after "errseq: Always report a writeback
	// error once" (b4678df184b3, Matthew Wilcox, April 2018, merged for
	// 4.17 and sent to stable): errseq_sample returns 0 while ERRSEQ_SEEN
	// is clear, so a description opened after an error that no
	// description has seen yet is owed it too. Only an fsync's
	// errseq_check_and_advance sets ERRSEQ_SEEN; a sync(2) does not.
	ErrseqOnce Contract = "errseq-once"
)

// rule says in a few words what the contract owes, for explanations.
func (c Contract) rule() string {
	switch c {
	case Errseq:
		return "every description open when the error happened reports it once"
	case ErrseqOnce:
		return "every description open when the error happened reports it once, and so does one opened later while no description has reported it"
	}
	return "the first fsync after the error reports it"
}

// Contracts lists the contract levels, oldest first.
var Contracts = []Contract{Linux26, Errseq, ErrseqOnce}

// ParseContract reads a contract level by name.
func ParseContract(s string) (Contract, error) {
	switch c := Contract(s); c {
	case Linux26, Errseq, ErrseqOnce:
		return c, nil
	}
	return "", fmt.Errorf("unknown fsync-error contract %q; expected %q, %q or %q", s, Linux26, Errseq, ErrseqOnce)
}

// Oracle tracks, per file, the expected bytes, what each fsync promised,
// and which errors each open file description is owed.
type Oracle struct {
	Contract Contract
	files    []*File
	stamp    content.Stamp // last stamp handed out
	inflight map[content.Stamp]bool
}

// NewOracle makes an oracle checking the given contract level.
func NewOracle(c Contract) *Oracle { return &Oracle{Contract: c} }

// File is the oracle's view of one file.
type File struct {
	o        *Oracle
	ID       int
	Name     string
	expected content.Store
	// promises are what the fsyncs that returned 0 promised; each keeps
	// the lowest size the file had since its fsync began (bytes at or
	// past it may legitimately be zero).
	promises []*promise
	// fsyncs are the fsyncs (and syncs) in progress: a truncate lowers
	// their floor too, so the promise an fsync makes when it returns
	// leaves out what a truncate took away after it began.
	fsyncs []*Fsync
	// deferred are linux-2.6 fsync-error failures not yet raised: the
	// fsync returned 0 while another fsync or sync was in flight, which
	// may have tested and cleared AS_EIO first (then it reports it).
	deferred []*sim.Failure
	// Writeback errors: errors counts them (an errseq_t counter); reported
	// is how many of them some fsync has reported (the AS_EIO bit).
	errors   int
	reported int
	// fdReported is how many errors some description's fsync has reported
	// (errseq's ERRSEQ_SEEN; a sync's consumption does not count).
	fdReported int
	lastErr    errno.Errno
	nextFD     int
}

// FD is an open file description.
type FD struct {
	File *File
	ID   int
	// seen is the error count this description has seen: at open, or at
	// its last fsync that reported an error (errseq's "sampled" value).
	seen int
}

type promise struct {
	data      *content.Store // the expected contents when the fsync began
	newer     content.Stamp  // stamps above this were written after it began
	truncated int64          // the lowest size since it began
	fsyncAt   string         // where, for messages
}

// NewFile registers a file.
func (o *Oracle) NewFile(name string) *File {
	f := &File{o: o, ID: len(o.files), Name: name}
	o.files = append(o.files, f)
	return f
}

// Files lists the files in creation order.
func (o *Oracle) Files() []*File { return append([]*File(nil), o.files...) }

func (f *File) obj() sim.Obj { return sim.Obj{Class: "file", Name: f.Name} }

// Open opens a file description.
func (f *File) Open() *FD {
	f.nextFD++
	fd := &FD{File: f, ID: f.nextFD, seen: f.errors}
	if f.o.Contract == ErrseqOnce && f.fdReported < f.errors {
		fd.seen = f.fdReported // errseq_sample: unseen, so 0
	}
	return fd
}

// Write records a write of n bytes at off and returns the symbolic data
// the workload hands to the model: a fresh stamp, so every byte says which
// write it came from.
func (f *File) Write(off, n int64) content.Bytes {
	f.o.stamp++
	data := content.Fill(n, f.o.stamp, 0)
	f.expected.Write(off, data)
	return data
}

// Truncate records a truncate to n bytes.
func (f *File) Truncate(n int64) {
	f.expected.Truncate(n)
	for _, p := range f.promises {
		p.truncated = min(p.truncated, n)
	}
	for _, s := range f.fsyncs {
		s.truncated = min(s.truncated, n)
	}
}

// Size is the expected file size.
func (f *File) Size() int64 { return f.expected.Size() }

// Expected returns the expected bytes [off, off+n), clipped at the size.
func (f *File) Expected(off, n int64) content.Bytes {
	n = max(0, min(n, f.Size()-off))
	return f.expected.Read(off, n)
}

// WritebackError records that writeback of this file's data failed with
// err (the model set PageError/AS_EIO, or the server refused a store).
func (f *File) WritebackError(err errno.Errno) {
	f.errors++
	f.lastErr = err
}

// Fsync is an fsync in progress, or a sync(2) (BeginSync).
type Fsync struct {
	f      *File
	fd     *FD // nil for a sync
	snap   *content.Store
	stamp  content.Stamp
	errors int // errors recorded before it began
	where  string
	// truncated is the lowest size the file had since it began.
	truncated int64
}

// BeginFsync records that fsync started on fd; where names it for
// messages (a scenario position, or a task).
func (fd *FD) BeginFsync(where string) *Fsync {
	f := fd.File
	s := &Fsync{f: f, fd: fd, snap: f.expected.Clone(), stamp: f.o.settled(), errors: f.errors, where: where}
	s.truncated = s.snap.Size()
	f.fsyncs = append(f.fsyncs, s)
	return s
}

// BeginSync records that sync(2) started writing the file back. Its
// filemap_fdatawait tests and clears AS_EIO like an fsync, but it reports
// nothing and promises nothing: under linux-2.6 an error it consumes is
// owed to no later fsync. Errseq counters are per description and a sync
// does not advance them.
func (f *File) BeginSync() *Fsync {
	s := &Fsync{f: f, errors: f.errors, truncated: f.Size()}
	f.fsyncs = append(f.fsyncs, s)
	return s
}

// End records what the fsync returned (0 or a negative errno) and checks
// the fsync-error contract. An error recorded before the fsync began is an
// obligation: under linux-2.6 the first fsync after it must report it;
// under errseq every description open before it must. (An error recorded
// during the fsync may or may not be reported, as in the kernel; if data
// it promised is then missing, fsync-durable says so.) Under linux-2.6 the
// first fsync or sync to test AS_EIO takes the error: an fsync that
// returns 0 while another is in flight is judged when the last of those
// ends, and it owes nothing if one of them returned an error.
func (s *Fsync) End(ret int) *sim.Failure {
	f := s.f
	if i := slices.Index(f.fsyncs, s); i >= 0 {
		f.fsyncs = slices.Delete(f.fsyncs, i, i+1)
	}
	if ret < 0 {
		// Reporting consumes: every error so far is now reported, and this
		// description has seen them.
		f.reported = f.errors
		if s.fd != nil {
			s.fd.seen = f.errors
			f.fdReported = f.errors
		}
		f.deferred = nil
		return nil
	}
	if s.fd != nil {
		if fl := s.end(ret); fl != nil {
			f.deferred = append(f.deferred, fl)
		}
	}
	if f.o.Contract == Linux26 && len(f.fsyncs) > 0 || len(f.deferred) == 0 {
		return nil
	}
	fl := f.deferred[0]
	f.deferred = nil
	return fl
}

// end records a description's fsync that returned ret >= 0 and returns
// the fsync-error failure it owes, if any.
func (s *Fsync) end(ret int) *sim.Failure {
	fd, f := s.fd, s.fd.File
	var owed bool
	switch f.o.Contract {
	case Errseq, ErrseqOnce:
		owed = s.errors > fd.seen
	default:
		owed = s.errors > f.reported
	}
	if ret == 0 {
		f.promises = append(f.promises, &promise{data: s.snap, newer: s.stamp, truncated: s.truncated, fsyncAt: s.where})
	}
	if owed {
		return &sim.Failure{Kind: sim.FailInvariant, Invariant: InvFsyncError, Obj: f.obj(),
			Msg: fmt.Sprintf("fsync %s of %s on description %d returned 0, but writeback had failed with %s before it began",
				s.where, f.Name, fd.ID, f.lastErr),
			Explain: fmt.Sprintf("Writeback of %s failed (%s) before this fsync started, and under the %s contract "+
				"(%s) this fsync had to report it. It returned 0, so the application believes its data is safe. "+
				"In Linux 2.6 the error is a flag on the mapping (AS_EIO) that the first fsync to look clears; "+
				"if some other path cleared it, or the writeback path never set it, the error is lost.",
				f.Name, f.lastErr, f.o.Contract, f.o.Contract.rule())}
	}
	return nil
}

// afterErrorHint is what a durability failure of a file whose writeback
// failed must add: Linux does not write a page again after its write
// failed (end_page_writeback leaves it clean, with PG_error), so once an
// fsync has reported the error a later fsync returns 0 without the lost
// bytes, the behaviour PostgreSQL met in 2018 ("fsyncgate"). A scenario
// that injects write faults and accepts that says "check all except
// fsync-durable" and judges the error with fsync-error instead.
func (f *File) afterErrorHint() string {
	if f.errors == 0 {
		return ""
	}
	return fmt.Sprintf(" Writeback of %s failed (%s) during the run: Linux does not write a page again after its "+
		"write failed (it is left clean, with PG_error), so once an fsync has reported the error, a later fsync "+
		"returns 0 without the lost bytes (PostgreSQL's \"fsyncgate\"). If that is the behaviour under test, "+
		"judge it with fsync-error and leave fsync-durable out (check all except fsync-durable).", f.Name, f.lastErr)
}

// Stable reads what stable storage holds for a file, bytes [off, off+n).
type Stable func(off, n int64) content.Bytes

// CheckDurable checks, right after an fsync returned 0 (or at any time),
// that stable storage holds at least what every successful fsync promised:
// each promised byte is there, or was overwritten by a later write, or lies
// past a later truncation. id is InvFsyncDurable, or InvCrash after a
// crash and remount.
func (f *File) CheckDurable(id string, stable Stable) *sim.Failure {
	for _, p := range f.promises {
		want := p.data.Read(0, p.data.Size())
		got := stable(0, p.data.Size())
		if off, ok := covers(want, got, p.newer, p.truncated); !ok {
			return &sim.Failure{Kind: sim.FailInvariant, Invariant: id, Obj: sim.Obj{Class: "file", Name: f.Name, A: off},
				Msg: fmt.Sprintf("%s byte %d: stable storage holds %s, but fsync %s promised %s",
					f.Name, off, labelAt(got, off), p.fsyncAt, labelAt(want, off)),
				Explain: "An fsync returned 0, which promises that every byte written before it began is on stable " +
					"storage (the disk's media, past its volatile cache, or the file server). This byte is not: " +
					"it was never written back, written to the wrong place, or lost from a cache that was not flushed." +
					f.afterErrorHint()}
		}
	}
	return nil
}

// CheckRead checks that a read of [off, off+len(got)) returned the
// expected bytes: written data, zeros in holes, nothing past EOF.
func (f *File) CheckRead(off, n int64, got content.Bytes) *sim.Failure {
	want := f.Expected(off, n)
	if d := want.FirstDiff(got); d >= 0 {
		return &sim.Failure{Kind: sim.FailInvariant, Invariant: InvReadCorrect, Obj: sim.Obj{Class: "file", Name: f.Name, A: off + d},
			Msg: fmt.Sprintf("read of %s at %d+%d: byte %d is %s, want %s (read %d bytes, want %d)",
				f.Name, off, n, off+d, labelAt(got, d), labelAt(want, d), got.Len(), want.Len()),
			Explain: "A read must return the bytes last written at each offset, zeros in holes and past a " +
				"truncation, and stop at end of file. This one did not: the page cache or the mapping from " +
				"file offsets to blocks handed back the wrong bytes."}
	}
	return nil
}

// CheckNoLostWrite checks, after a final sync, that stable storage equals
// the expected contents, outside the byte ranges [from, to) in touched:
// those an injected fault touched (none when no fault fired).
func (f *File) CheckNoLostWrite(stable Stable, touched ...[2]int64) *sim.Failure {
	want := f.expected.Read(0, f.Size())
	got := stable(0, f.Size())
	for _, r := range touched {
		lo, hi := max(0, r[0]), min(f.Size(), r[1])
		if lo < hi {
			want = want.Overwrite(lo, content.Zeros(hi-lo))
			got = got.Truncate(max(got.Len(), hi)).Overwrite(lo, content.Zeros(hi-lo))
		}
	}
	if d := want.FirstDiff(got); d >= 0 {
		where := "after the final sync"
		if len(touched) > 0 {
			where = "after the final sync, in a range no fault touched"
		}
		return &sim.Failure{Kind: sim.FailInvariant, Invariant: InvNoLostWrite, Obj: sim.Obj{Class: "file", Name: f.Name, A: d},
			Msg: fmt.Sprintf("%s byte %d: stable storage holds %s, want %s %s",
				f.Name, d, labelAt(got, d), labelAt(want, d), where),
			Explain: "After a final sync, everything written must reach stable storage, except where an injected " +
				"fault touched the file (the pages of a failed or faulted request: those bytes may be lost, and are " +
				"not compared). A byte that did not was lost by writeback: a dirty page skipped, a write sent to the " +
				"wrong block, or a page dropped while dirty."}
	}
	return nil
}

// CheckStableSize checks, with CheckNoLostWrite, that the file's size on
// stable storage (the server's file length, or i_size on blockfs) is the
// expected size: a store that cut the file, or grew it with zeros, shows
// here even where the bytes up to the expected size are right.
func (f *File) CheckStableSize(size int64) *sim.Failure {
	if size == f.Size() {
		return nil
	}
	return &sim.Failure{Kind: sim.FailInvariant, Invariant: InvNoLostWrite, Obj: sim.Obj{Class: "file", Name: f.Name, A: size},
		Msg: fmt.Sprintf("%s is %d bytes long on stable storage, want %d after the final sync", f.Name, size, f.Size()),
		Explain: "After a final sync, with no fault touching the file, the file on stable storage must be exactly as long as " +
			"the writes and truncates made it. A longer file holds bytes nobody wrote there (a store or an " +
			"extension sent too large a length); a shorter one lost its tail (a length sent from an older, " +
			"smaller i_size, or a truncate applied twice)."}
}

// covers reports whether got holds, at every byte of want, the same label,
// or a label newer than newer, or (at or past truncated) zero. It returns
// the first offending offset.
func covers(want, got content.Bytes, newer content.Stamp, truncated int64) (int64, bool) {
	g := runsOf(got)
	i := 0
	for w := range want.Runs() {
		for pos := w.Off; pos < w.End(); {
			for i < len(g) && g[i].End() <= pos {
				i++
			}
			if i == len(g) || g[i].Off > pos {
				// got is shorter than want: only zeros, or bytes a later
				// truncation removed, may be missing.
				if w.Stamp != content.Zero && pos < truncated {
					return pos, false
				}
				pos = w.End()
				continue
			}
			have := g[i]
			end := min(w.End(), have.End())
			same := have.Stamp == w.Stamp && (w.Stamp == content.Zero || have.Src-have.Off == w.Src-w.Off)
			ok := same || (!have.Stamp.IsCorrupt() && have.Stamp > newer) ||
				(have.Stamp == content.Zero && pos >= truncated)
			if !ok {
				return pos, false
			}
			pos = end
		}
	}
	return -1, true
}

func runsOf(b content.Bytes) []content.Run {
	var out []content.Run
	for r := range b.Runs() {
		out = append(out, r)
	}
	return out
}

// labelAt names the label of byte off of b, for messages.
func labelAt(b content.Bytes, off int64) string {
	for r := range b.Runs() {
		if off >= r.Off && off < r.End() {
			if r.Stamp == content.Zero {
				return "zero"
			}
			return fmt.Sprintf("%s@%d", r.Stamp, r.Src+off-r.Off)
		}
	}
	return "nothing (past the end)"
}

// NewData returns n bytes of a fresh stamp without recording a write: a
// runner hands them to the model and then records, with Wrote, only the
// bytes the model says it copied (a write that fails part way copies
// fewer).
func (f *File) NewData(n int64) content.Bytes {
	f.o.stamp++
	if f.o.inflight == nil {
		f.o.inflight = map[content.Stamp]bool{}
	}
	f.o.inflight[f.o.stamp] = true
	return content.Fill(n, f.o.stamp, 0)
}

// WriteDone says the write of data (from NewData) returned. Until then its
// stamp counts as newer than any fsync that begins: an fsync promises only
// the writes that returned before it began.
func (f *File) WriteDone(data content.Bytes) {
	for r := range data.Runs() {
		delete(f.o.inflight, r.Stamp)
	}
}

// settled is the stamp below every write still in progress: what an fsync
// beginning now promises.
func (o *Oracle) settled() content.Stamp {
	s := o.stamp
	for st := range o.inflight {
		s = min(s, st-1)
	}
	return s
}

// Wrote records that data (from NewData, possibly shortened) now sits at
// off in the file.
func (f *File) Wrote(off int64, data content.Bytes) {
	if data.Len() > 0 {
		f.expected.Write(off, data)
	}
}
