// Package blockfs is a small ext2-like file system over model/block: the
// file system whose get_block the mpage code calls.
//
// Two block-mapping layouts:
//
//   - LayoutIndirect is ext2's: 12 direct blocks in the inode, then single,
//     double and triple indirect blocks. Its get_block is ext2_get_block
//     and ext2_get_blocks of fs/ext2/inode.c, translated with their
//     control flow (ext2_block_to_path, ext2_get_branch, ext2_find_goal,
//     ext2_blks_to_allocate, ext2_alloc_blocks, ext2_alloc_branch,
//     ext2_splice_branch). Indirect blocks live on the device and are read
//     through the buffer cache (sb_bread: submit_bh, a bio, the device), so
//     mapping a block may sleep on a metadata read, and a failed read
//     gives -EIO. get_block maps multi-block extents where the layout is
//     contiguous, sets BH_Boundary on the last block before an indirect
//     block is needed, and sets BH_New on allocation.
//   - LayoutExtent maps 64-bit logical block numbers with an in-inode
//     extent list (sparse and cheap: a file can reach past 2^32 blocks).
//     Its get_block returns extents and holes, never boundaries, and does
//     no metadata I/O.
//
// Indirect blocks are symbolic content like everything else: pointer
// slot i of an indirect block holding block number b reads as 4 bytes
// labelled MetaStamp from position 4*b (content.Fill(4, MetaStamp, 4*b)),
// and a zero pointer as zeros. Consecutive pointers to consecutive blocks
// are a single run, so the encoding costs little; it survives the disk
// (writes, crashes, misdirected I/O) exactly, and a data block read where
// an indirect block was expected decodes as garbage.
//
// The allocator replaces ext2's balloc.c (block groups, reservation
// windows) with three policies: contiguous (first free block at or after
// the goal, extending the run), fragmented (runs of random length at
// random places, drawn from the world's random source) and interleaved
// (the next free blocks in disk order whatever the file, in small chunks,
// so files written side by side interleave). It fails with -ENOSPC when
// the device is full.
//
// The inode itself (i_data, the extent list, i_size) is kept in memory
// only: it is never written to the device. fsync writes the file's dirty
// pages (filemap_write_and_wait_range), its dirty indirect blocks
// (sync_mapping_buffers) and then, unless mounted with NoBarrier, flushes
// the device's cache.
//
// Kernel versions: ext2's inode.c of Linux 2.6.32 (read from 3.17, whose
// ext2_get_blocks is the same code); in the 2.6.12 era get_block maps
// one block at a time, as 2.6.12's ext2_get_block did (it ignored b_size).
package blockfs
