package blockfs

import (
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/sim/content"
)

// Indirect blocks as symbolic content (see the package comment): slot i
// of a block holding block number b is content.Fill(4, MetaStamp, 4*b);
// a zero pointer is four zero bytes.

// badPtr is what a slot decodes to when it holds something other than a
// pointer (data, corrupt bytes, a misaligned label): a block number past
// any device, so that following it fails like reading garbage would.
const badPtr = ^uint32(0)

// encodePtr is the content of a slot holding v.
func encodePtr(v uint32) content.Bytes {
	if v == 0 {
		return content.Zeros(4)
	}
	return content.Fill(4, MetaStamp, 4*int64(v))
}

// decodePtrs decodes n slots starting at byte off of data into out.
func decodePtrs(data content.Bytes, off int64, out []uint32) {
	n := int64(len(out))
	part := data.Slice(off, 4*n)
	i := int64(0)
	for r := range part.Runs() {
		for ; i < n && 4*i < r.End(); i++ {
			pos := 4 * i
			if pos+4 > r.End() || pos < r.Off {
				out[i] = badPtr // a slot split between two labels
				continue
			}
			switch {
			case r.Stamp == content.Zero:
				out[i] = 0
			case r.Stamp == MetaStamp && (r.Src+pos-r.Off)%4 == 0 && (r.Src+pos-r.Off)/4 < 1<<32:
				out[i] = uint32((r.Src + pos - r.Off) / 4)
			default:
				out[i] = badPtr
			}
		}
	}
}

// getPtr reads pointer slot of the indirect block in bh (le32_to_cpu(*p)).
func getPtr(bh *block.BufferHead, slot uint) uint32 {
	var v [1]uint32
	decodePtrs(bh.Page.Data, int64(bh.Offset)+4*int64(slot), v[:])
	return v[0]
}

// setPtr stores v in pointer slot of the indirect block in bh (*p =
// cpu_to_le32(v)): a plain memory store, not a scheduling point.
func setPtr(bh *block.BufferHead, slot uint, v uint32) {
	bh.Page.Data = bh.Page.Data.Overwrite(int64(bh.Offset)+4*int64(slot), encodePtr(v))
}

// zeroBlock is memset(bh->b_data, 0, blocksize).
func zeroBlock(bh *block.BufferHead) {
	bh.Page.Data = bh.Page.Data.Overwrite(int64(bh.Offset), content.Zeros(int64(bh.Size)))
}
