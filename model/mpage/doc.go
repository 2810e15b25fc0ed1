// Package mpage models fs/mpage.c: reading and writing whole pages of a
// file in multi-page bios, falling back to the buffer-head code
// (block_read_full_page, ->writepage) for any page that is not simple: a
// page with buffers, with holes before data, or whose blocks are not
// contiguous on disk ("confused").
//
// Three kernel eras are modelled, selected by mm.Kernel.Version: 2.6.12,
// 2.6.2x and 3.x. Each function is the kernel function of the same name in
// Go style (do_mpage_readpage is doMpageReadpage), keeps the seed's control
// flow (confused, alloc_new, page_is_mapped and out are labels reached by
// goto, as in C), and names the seed file, lines and version in its
// comment. Each enters with Task.EnterAt, citing the seed line where it
// starts in the running kernel's era (seedCite), so narrated traces name
// it. Code the eras share is written once; a file named for an era
// (readpage_2_6_12.go, endio_3x.go, ...) holds only what that era does
// differently. docs/versions.md lists every difference with the seed lines
// of each side.
//
// The seeds' bugs are kept. Later kernels' fixes are switches in Fixes, off
// by default; Setup installs them (and 3.x's cleancache backend) for a
// kernel.
package mpage
