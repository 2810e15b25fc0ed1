package vfs

import (
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// DropCaches is "echo 1 > /proc/sys/vm/drop_caches":
// drop_caches_sysctl_handler's drop_pagecache, fs/drop_caches.c, Linux
// 2.6.32: drop_pagecache_sb of every mounted super block. /proc/sys/vm/
// drop_caches appeared in 2.6.16; the 2.6.12 era gets the same code.
// super_blocks also holds the "bdev" pseudo file system's super block,
// whose inodes are the block devices: its drop_pagecache_sb drops the
// clean, unused buffer-cache pages (indirect blocks, bitmaps) of each
// mounted file system's device, so that the next get_block reads them
// from the disk again. The model has no bdev super block: it runs that
// pass on each super block's s_bdev mapping, after the file systems'.
func DropCaches(t *sim.Task, v *VFS) {
	t.Enter("drop_pagecache")
	defer t.Leave()
	supers := v.Supers()
	for _, sb := range supers {
		DropPagecacheSb(t, sb)
	}
	k := v.K
	for _, sb := range supers {
		if sb.BdevMapping == nil || sb.BdevMapping.NrPages == 0 {
			continue
		}
		mm.InvalidateMappingPages(t, sb.BdevMapping, 0, k.PgoffMax())
	}
}

// DropPagecacheSb is drop_pagecache_sb(sb), fs/drop_caches.c, Linux
// 2.6.32 (the 2.6.29-2.6.34 text with __iget and toput_inode, read via the
// search tool): invalidate_mapping_pages(mapping, 0, -1) of every inode of the
// super block that has pages and is not being created or freed. Dirty,
// locked, under-writeback and mapped pages stay.
func DropPagecacheSb(t *sim.Task, sb *SuperBlock) {
	t.Enter("drop_pagecache_sb")
	defer t.Leave()
	k := sb.V.K
	k.InodeLock.Lock(t)
	for _, ino := range sb.Inodes() {
		inode := ino.I
		if inode.State&(mm.I_FREEING|mm.I_CLEAR|mm.I_WILL_FREE|mm.I_NEW) != 0 {
			continue
		}
		if inode.Mapping.NrPages == 0 {
			continue
		}
		// __iget(inode)
		k.InodeLock.Unlock(t)
		mm.InvalidateMappingPages(t, inode.Mapping, 0, k.PgoffMax())
		// iput(toput_inode)
		k.InodeLock.Lock(t)
	}
	k.InodeLock.Unlock(t)
}
