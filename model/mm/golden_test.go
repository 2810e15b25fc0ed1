package mm

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

var update = flag.Bool("update", false, "rewrite the expected traces in testdata/*.txt")

// Golden traces, in the style of cockroachdb/datadriven: each
// testdata/*.txt file holds cases of the form
//
//	# comments
//	run version=<v> [latency=<ms>]
//	<operation>
//	...
//	----
//	<expected trace>
//
// separated by blank lines. The operations run in order in one task,
// "task"; I/O completions run as interrupt tasks "end_io". The trace
// leaves out spinlocks and cond_resched so that it reads as the page's
// life. Run with -update to regenerate the expected parts.
//
// Operations:
//
//	write <index>           write_begin/write_end of a whole page: grab, copy, uptodate, dirty, unlock
//	fail <index>            make the next write of that page fail (PG_error, AS_EIO)
//	do_writepages <all|none> [nr=<n>]
//	fdatawrite | fdatawait | write_and_wait
//	truncate <bytes>        vmtruncate
//	sleep <ms>
func TestGoldenTraces(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) == 0 {
		t.Fatal("no testdata/*.txt")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			out, changed := runGoldenFile(t, string(data))
			if changed {
				if *update {
					if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				t.Errorf("%s: trace differs (rerun with -update to accept):\n%s", file, cmp.Diff(string(data), out))
			}
		})
	}
}

func runGoldenFile(t *testing.T, data string) (string, bool) {
	var out, head, want strings.Builder
	changed := false
	inWant := false
	flush := func() {
		got := runGoldenCase(t, head.String())
		out.WriteString(got)
		if strings.TrimRight(got, "\n") != strings.TrimRight(want.String(), "\n") {
			changed = true
		}
		head.Reset()
		want.Reset()
		inWant = false
	}
	for line := range strings.Lines(data) {
		switch {
		case inWant && strings.TrimSpace(line) == "":
			flush()
			out.WriteString("\n")
		case inWant:
			want.WriteString(line)
		case strings.TrimRight(line, "\n") == "----":
			out.WriteString(line)
			inWant = true
		default:
			head.WriteString(line)
			out.WriteString(line)
		}
	}
	if inWant {
		flush()
	}
	return out.String(), changed
}

func runGoldenCase(t *testing.T, head string) string {
	var cmd []string
	var ops [][]string
	for line := range strings.Lines(head) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if cmd == nil {
			cmd = strings.Fields(line)
			continue
		}
		ops = append(ops, strings.Fields(line))
	}
	if len(cmd) == 0 || cmd[0] != "run" {
		t.Fatalf("want a run command, got %q", cmd)
	}
	version, latency := V2_6_2x, sim.Time(0)
	for _, a := range cmd[1:] {
		k, v, _ := strings.Cut(a, "=")
		switch k {
		case "version":
			version = Version(v)
		case "latency":
			ms, _ := strconv.Atoi(v)
			latency = sim.Time(ms) * sim.Millisecond
		}
	}
	w := sim.New(sim.Config{Seed: 1, TraceKeep: -1})
	fs := &testFS{Latency: latency, FailIndex: map[uint64]bool{}}
	_, ino := newTestKernel(w, version, fs)
	m := ino.Mapping
	var results []string
	w.Spawn("task", func(tk *sim.Task) {
		for n, op := range ops {
			arg := func(i int) int64 {
				v, err := strconv.ParseInt(op[i], 10, 64)
				if err != nil {
					panic(fmt.Sprintf("op %q: %v", op, err))
				}
				return v
			}
			tk.World().Record(sim.KindNote, strings.Join(op, " "), sim.Obj{}, 0, "")
			switch op[0] {
			case "write":
				writePage(tk, m, uint64(arg(1)), content.Stamp(n+1))
			case "fail":
				fs.FailIndex[uint64(arg(1))] = true
			case "do_writepages":
				wbc := &WritebackControl{SyncMode: WB_SYNC_NONE, NrToWrite: LLONG_MAX, RangeEnd: LLONG_MAX}
				if op[1] == "all" {
					wbc.SyncMode = WB_SYNC_ALL
				}
				if len(op) > 2 {
					nr, _ := strconv.ParseInt(strings.TrimPrefix(op[2], "nr="), 10, 64)
					wbc.NrToWrite = nr
					wbc.RangeCyclic = true
				}
				results = append(results, fmt.Sprintf("do_writepages = %d (nr_to_write left %d, writeback_index %d)",
					DoWritepages(tk, m, wbc), wbc.NrToWrite, m.WritebackIndex))
			case "fdatawrite":
				results = append(results, fmt.Sprintf("filemap_fdatawrite = %d", FilemapFdatawrite(tk, m)))
			case "fdatawait":
				results = append(results, fmt.Sprintf("filemap_fdatawait = %d", FilemapFdatawait(tk, m)))
			case "write_and_wait":
				results = append(results, fmt.Sprintf("filemap_write_and_wait = %d", FilemapWriteAndWait(tk, m)))
			case "truncate":
				VMTruncate(tk, ino, arg(1))
			case "sleep":
				tk.Sleep(sim.Time(arg(1)) * sim.Millisecond)
			default:
				panic(fmt.Sprintf("unknown op %q", op))
			}
		}
	})
	r := w.Run()
	var b strings.Builder
	names := w.TaskNames()
	for _, ev := range w.Trace().Events() {
		if skipGolden(&ev) {
			continue
		}
		b.WriteString(strings.TrimRight(ev.Format(names), " "))
		b.WriteString("\n")
	}
	for _, s := range results {
		b.WriteString("=> " + s + "\n")
	}
	if r.Failure != nil {
		b.WriteString("=> FAILURE " + r.Failure.Error() + "\n")
	}
	return b.String()
}

func skipGolden(ev *sim.Event) bool {
	switch {
	case ev.Obj.Class == "spinlock":
		return true
	case ev.Op == "cond_resched":
		return true
	case ev.Kind == sim.KindSpawn || ev.Kind == sim.KindTimer:
		return true
	}
	return false
}
