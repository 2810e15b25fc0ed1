package blockfs

import (
	"testing"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// On the fault-injecting disk (block.DiskDevice over faultdisk.Disk):
// fsync puts a file's pages on stable storage, and a plan's EIO on writes
// reaches fsync as -EIO.
func TestFsyncOnFaultDisk(t *testing.T) {
	for _, tc := range []struct {
		plan    string
		wantRet int
	}{
		{"faultplan v1\n", 0},
		{"faultplan v1\nwrite: fail EIO\n", errno.EIO.Neg()},
	} {
		plan, err := faultdisk.Parse(tc.plan)
		if err != nil {
			t.Fatal(err)
		}
		w := sim.New(sim.Config{Seed: 1})
		k := mm.NewKernel(w, mm.V2_6_2x)
		disk, err := faultdisk.New(w, faultdisk.Config{Sectors: 1 << 16, Plan: plan})
		if err != nil {
			t.Fatal(err)
		}
		dev := block.NewDiskDevice(block.Init(k), disk)
		bdev := block.NewBlockDevice(k, "sda", dev, 1<<16, 512)
		fs := NewFs(k, bdev, Options{BlockSize: 4096})
		ei := fs.NewInode(12)
		data := content.Fill(3*mm.PageSize, 7, 0)
		var ret int
		w.Spawn("writer", func(t *sim.Task) {
			m := ei.VFS.Mapping
			for i := range uint64(3) {
				dirtyPage(t, m, i, data.Slice(int64(i)*mm.PageSize, mm.PageSize))
			}
			mm.ISizeWrite(t, m.Host, 3*mm.PageSize)
			ret = fs.Fsync(t, ei, 0, 3*mm.PageSize-1, 0)
		})
		if r := w.Run(); r.Failure != nil {
			t.Fatalf("%q: %s", tc.plan, r.Failure.Report())
		}
		if ret != tc.wantRet {
			t.Fatalf("%q: fsync returned %d, want %d", tc.plan, ret, tc.wantRet)
		}
		if tc.wantRet != 0 {
			continue
		}
		for i := range int64(3) {
			blk, _, ok := ei.Lookup(uint64(i))
			if !ok {
				t.Fatalf("page %d not mapped after fsync", i)
			}
			got := disk.Durable().Read(int64(blk)*4096, 4096)
			if want := data.Slice(i*mm.PageSize, mm.PageSize); !got.Equal(want) {
				t.Fatalf("block of page %d on stable storage: %v, want %v", i, got, want)
			}
		}
	}
}
