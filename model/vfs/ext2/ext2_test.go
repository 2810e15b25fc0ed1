package ext2

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// TestExt2MaxSize checks s_maxbytes against values worked out by hand
// from each era's ext2_max_size.
func TestExt2MaxSize(t *testing.T) {
	type key struct {
		v      mm.Version
		bits   uint
		bits32 bool
	}
	want := map[key]int64{
		// 2.6.12: the tree's reach, capped at 0x1ff7fffd000.
		{mm.V2_6_12, 10, false}: (12 + 256 + 65536 + 16777216) << 10,
		{mm.V2_6_12, 12, false}: 0x1ff7fffd000,
		// 2.6.32 and 3.2: capped by i_blocks (2^32 - 1 sectors) less the
		// indirect blocks, and by MAX_LFS_FILESIZE.
		{mm.V2_6_2x, 10, false}: (12 + 256 + 65536 + 16777216) << 10,
		{mm.V2_6_2x, 12, false}: (((1<<32 - 1) >> 3) - (1 + 1 + 1024 + 1 + 1024 + 1024*1024)) << 12,
		{mm.V3x, 12, true}:      (((1<<32 - 1) >> 3) - (1 + 1 + 1024 + 1 + 1024 + 1024*1024)) << 12,
	}
	got := map[key]int64{}
	for k := range want {
		kern := mm.NewKernel(sim.New(sim.Config{}), k.v)
		kern.Bits32 = k.bits32
		got[k] = ext2MaxSize(kern, k.bits)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ext2_max_size (-want +got):\n%s", diff)
	}
}
