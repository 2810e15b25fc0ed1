package mpage_test

import (
	"testing"

	"github.com/wbsim/wbsim/model/blockfs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/mpage"
	"github.com/wbsim/wbsim/sim"
)

func TestSmoke(t *testing.T) {
	for _, v := range versions {
		for _, bs := range []uint{512, 4096} {
			e := newEnv(envOpts{version: v, seed: 1, fs: blockfs.Options{BlockSize: bs}})
			f := e.newFile(10)
			e.run(t, func(tk *sim.Task) {
				if r := f.write(tk, 0, 20*mm.PageSize+100, 7); r != 0 {
					t.Fatalf("write: %d", r)
				}
				if r := f.fsync(tk); r != 0 {
					t.Fatalf("%s: fsync: %d", v, r)
				}
				f.dropCache(tk)
				got, err := f.readAll(tk, 32)
				if err != nil {
					t.Fatal(err)
				}
				if d := diff(got, f.want()); d != "" {
					t.Errorf("%s bs %d read: %s", v, bs, d)
				}
			})
			if d := diff(f.diskImage(), f.wantBlocks()); d != "" {
				t.Errorf("%s bs %d disk: %s", v, bs, d)
			}
			t.Logf("%s bs %d: %+v, %d requests", v, bs, mpage.StatsOf(e.k), len(e.dev.Log))
		}
	}
}
