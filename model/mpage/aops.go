package mpage

import (
	"github.com/wbsim/wbsim/model/blockfs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// Ext2AOps is ext2_aops (and ext2_nobh_aops) of fs/ext2/inode.c with the
// mpage entry points, as every modelled era has them: ->readpage is
// ext2_readpage, mpage_readpage(page, ext2_get_block); ->readpages is
// ext2_readpages, mpage_readpages; ->writepages is ext2_writepages,
// mpage_writepages. ->writepage (block_write_full_page or nobh_writepage)
// and the write path come from blockfs's buffer a_ops.
type Ext2AOps struct {
	blockfs.BufferAOps
}

// Readpage is ext2_readpage.
func (a Ext2AOps) Readpage(t *sim.Task, f any, p *mm.Page) int {
	return MpageReadpage(t, p, a.Fs.GetBlock)
}

// Readpages is ext2_readpages.
func (a Ext2AOps) Readpages(t *sim.Task, f any, m *mm.AddressSpace, pages []*mm.Page, nr int) int {
	return MpageReadpages(t, m, pages, uint(nr), a.Fs.GetBlock)
}

// Writepages is ext2_writepages.
func (a Ext2AOps) Writepages(t *sim.Task, m *mm.AddressSpace, wbc *mm.WritebackControl) int {
	return MpageWritepages(t, m, wbc, a.Fs.GetBlock)
}

// UseMpage makes fs's files (those created from now on) read and write
// through mpage (Ext2AOps), and gives nobh_writepage mpage_writepage. A
// kernel that was not Setup gets the default configuration (no fixes),
// which also installs 2.6.12's generic_writepages.
func UseMpage(fs *blockfs.Fs) {
	stateOf(fs.K)
	fs.AOps = Ext2AOps{blockfs.BufferAOps{Fs: fs}}
	fs.MpageWritepage = MpageWritepage
}
