// Package block models the Linux block layer and the buffer-head code that
// writeback runs on: struct bio, bio_alloc, bio_add_page and submit_bio
// (fs/bio.c, block/blk-core.c), 3.x on-stack plugging, the request that
// carries bios to a Device and its completion in interrupt context, and
// fs/buffer.c: struct buffer_head, the buffer lock, the asynchronous read
// and write completions with their per-page BH_Uptodate_Lock, submit_bh,
// block_read_full_page, block_write_full_page, block_write_begin/end, the
// nobh write path and the block device's own buffer cache (__getblk,
// __bread, unmap_underlying_metadata, write_boundary_block).
//
// Every function is the kernel function of the same name in Go style,
// named by the rule in ARCHITECTURE.md ("Naming kernel functions"):
// end_buffer_async_read is EndBufferAsyncRead, __block_write_full_page is
// blockWriteFullPageInner beside block_write_full_page's
// BlockWriteFullPage. Each takes the running task first and keeps the
// kernel's control flow. Each cites the file and version it was
// translated from: fs/buffer.c, fs/bio.c and block/blk-core.c of Linux
// 2.6.32 unless a comment names another version.
//
// # Eras
//
// The mpage seeds span 2.6.12 to 3.x. Where the era changes what mpage
// sees, both forms exist:
//
//   - bio completion: 2.6.12's bi_end_io(bio, bytes_done, error) returns
//     int and may be called several times for one bio as the driver
//     completes it piecewise; it returns 1 while bi_size is not yet zero
//     ("not done yet"). A bio that sets Bio.EndIO2612 gets that form:
//     BioEndio2612 subtracts bytes_done from Size, advances Sector and
//     calls it; a request completed partly good, partly failed calls it
//     twice (bytes done with error 0, then the rest with -EIO), as
//     end_that_request_first did. A bio that sets Bio.EndIO gets the
//     2.6.24+ form bi_end_io(bio, error), called once when the whole bio
//     is done (req_bio_endio).
//   - plugging: BlkStartPlug/BlkFinishPlug are 3.x's on-stack plug
//     (block/blk-core.c, 3.2). A plugged task's bios wait in the plug,
//     merged with their neighbours, until blk_finish_plug, until 16
//     requests are queued, or until the task sleeps: schedule() flushes
//     the plug (sched_submit_work) and kblockd dispatches it.
//   - bio_get_nr_vecs: the 2.6.32 formula, and 3.x's for Version 3.x.
//   - submit_bh uses the completion form of the kernel's era.
//
// # The device
//
// A bio becomes a Request (block/blk-core.c's struct request, reduced to
// what a disk needs) that goes to the BlockDevice's Device. The data of a
// write is taken from its pages when the request is dispatched to the
// device (the DMA of the model); a read's data is copied into its pages
// when the request completes. Completion runs in an interrupt-context
// task that the device spawns.
//
// # Checks
//
// submit_bio checks every bio's shape (invariant "bio-shape"): contiguous
// sectors, pages of one file, no partial page except the last, within
// the queue limits, and, when the file system provides an oracle
// (BlockDevice.Where), that each block of each page goes to the disk
// sector where the file system has mapped it.
//
// # Simplifications
//
//   - No elevator and no request merging outside a 3.x plug: without a
//     plug a bio is dispatched at once as one request. The old per-queue
//     plugging of 2.6.x (unplug timer, blk_run_address_space) is the
//     disk's business (faultdisk).
//   - The per-CPU buffer-head LRU (bh_lrus) is not modelled: lookups go
//     straight to the block device's page cache.
//   - Physical segments never merge (pages are not physically
//     contiguous), so every io_vec is a segment.
//   - rwlocks and bit spinlocks are sim spin locks.
package block
