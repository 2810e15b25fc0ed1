package mpage_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/wbsim/wbsim/model/blockfs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// A workload is a list of file operations run by one task, with no
// faults, on the serial schedule (round robin without preemption).
type wlOp struct {
	Kind string // "write", "extend", "fsync", "drop"
	Off  int64
	N    int64
}

type workload struct {
	Opts blockfs.Options
	Ops  []wlOp
}

func (w workload) String() string {
	return fmt.Sprintf("bs=%d layout=%s policy=%s run=%d nobh=%v ops=%v", w.Opts.BlockSize, w.Opts.Layout,
		w.Opts.Policy, w.Opts.FragmentRun, w.Opts.Nobh, w.Ops)
}

func genWorkload(rt *rapid.T) workload {
	var w workload
	w.Opts.BlockSize = rapid.SampledFrom([]uint{512, 1024, 2048, 4096}).Draw(rt, "bs")
	w.Opts.Layout = rapid.SampledFrom([]blockfs.Layout{blockfs.LayoutIndirect, blockfs.LayoutExtent}).Draw(rt, "layout")
	w.Opts.Policy = rapid.SampledFrom([]blockfs.AllocPolicy{blockfs.AllocContiguous, blockfs.AllocFragmented}).Draw(rt, "policy")
	w.Opts.FragmentRun = uint64(rapid.IntRange(1, 4).Draw(rt, "fragrun"))
	// nobh only with one block per page: model/block's nobh_write_begin
	// (like 2.6.32's) returns -EIO for a partial write to a page that has
	// both a block to read and a hole, as it checks every buffer for
	// uptodate after the reads and holes are only zeroed.
	w.Opts.Nobh = w.Opts.BlockSize == mm.PageSize && rapid.Bool().Draw(rt, "nobh")
	size := int64(0)
	n := rapid.IntRange(1, 6).Draw(rt, "nops")
	for range n {
		switch rapid.IntRange(0, 9).Draw(rt, "kind") {
		case 0, 1, 2, 3, 4, 5:
			// Offsets up to 256 KiB cross the indirect-block boundary at
			// every block size (12 direct blocks: 6 KiB to 48 KiB).
			off := rapid.Int64Range(0, 256<<10).Draw(rt, "off")
			if rapid.Bool().Draw(rt, "aligned") {
				off &^= mm.PageSize - 1
			}
			l := rapid.Int64Range(1, 48<<10).Draw(rt, "len")
			w.Ops = append(w.Ops, wlOp{Kind: "write", Off: off, N: l})
			size = max(size, off+l)
		case 6, 7:
			l := rapid.Int64Range(1, 64<<10).Draw(rt, "grow")
			size += l
			w.Ops = append(w.Ops, wlOp{Kind: "extend", N: size})
		case 8:
			w.Ops = append(w.Ops, wlOp{Kind: "fsync"})
		case 9:
			w.Ops = append(w.Ops, wlOp{Kind: "drop"})
		}
	}
	return w
}

// runWorkload runs w on a fresh machine of version v and returns the
// file's disk image; it reports any difference from the oracle.
func runWorkload(v mm.Version, w workload) (string, error) {
	e := newEnv(envOpts{version: v, seed: 7, fs: w.Opts})
	f := e.newFile(12)
	e.k.CheckQuiescent(f.ino.Mapping, e.bdev.Inode.Mapping)
	var err error
	e.w.Spawn("test", func(t *sim.Task) {
		for i, op := range w.Ops {
			switch op.Kind {
			case "write":
				if r := f.write(t, op.Off, op.N, content.Stamp(i+1)); r != 0 {
					err = fmt.Errorf("op %d %v: write returned %d", i, op, r)
					return
				}
			case "extend":
				f.setSize(t, op.N)
			case "fsync":
				if r := f.fsync(t); r != 0 {
					err = fmt.Errorf("op %d: fsync returned %d", i, r)
					return
				}
			case "drop":
				f.dropCache(t)
			}
		}
		if r := f.fsync(t); r != 0 {
			err = fmt.Errorf("final fsync returned %d", r)
			return
		}
		f.dropCache(t)
		got, rerr := f.readAll(t, 32)
		if rerr != nil {
			err = rerr
			return
		}
		if d := diff(got, f.want()); d != "" {
			err = fmt.Errorf("read-correct: %s", d)
		}
	})
	res := e.w.Run()
	if res.Failure != nil {
		return "", fmt.Errorf("run failed: %s", res.Failure.Report())
	}
	if err != nil {
		return "", err
	}
	img := f.diskImage()
	if d := diff(img, f.wantBlocks()); d != "" {
		return "", fmt.Errorf("no-lost-write: disk differs from the oracle: %s", d)
	}
	return img.String(), nil
}

// TestDifferential: for random workloads, all three versions leave the
// same file contents on disk, equal to the oracle, and read back the
// oracle's bytes.
func TestDifferential(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		w := genWorkload(rt)
		images := map[mm.Version]string{}
		for _, v := range versions {
			img, err := runWorkload(v, w)
			if err != nil {
				rt.Fatalf("%s: %v\nworkload %v", v, err, w)
			}
			images[v] = img
		}
		for _, v := range versions[1:] {
			if d := cmp.Diff(images[versions[0]], images[v]); d != "" {
				rt.Fatalf("disk images of %s and %s differ (-%s +%s):\n%s\nworkload %v", versions[0], v,
					versions[0], v, d, w)
			}
		}
	})
}
