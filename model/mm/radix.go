package mm

import (
	"math/bits"
	"unsafe"
)

// The page tree: lib/radix-tree.c of Linux 2.6.32 (tags, gang lookups)
// and 3.2 (radix_tree_range_tag_if_tagged, the third tag), in Go.
//
// Like the kernel's, the tree has 64-slot nodes (RADIX_TREE_MAP_SHIFT 6),
// a height that grows at the top when an index beyond the current maximum
// is inserted and shrinks when the top node has only slot 0 in use, and a
// bitmap per tag in every node: bit i of node.tags[tag] is set exactly when
// some item under slot i carries the tag, and the root keeps one bit per
// tag for "anything tagged at all". A tagged gang lookup from an index thus
// walks down once and then only visits tagged subtrees: O(log n + found).
//
// Simplifications: no RCU (callers hold the mapping's tree_lock, the way
// 2.6.12-era code did with its rwlock), no preload, no indirect-pointer
// marking. Nodes also keep a bitmap of occupied slots, so untagged gang
// lookups skip empty slots as fast as tagged ones; the kernel scans the
// slots.

// Radix-tree geometry.
const (
	RadixTreeMapShift = 6
	RadixTreeMapSize  = 1 << RadixTreeMapShift
	RadixTreeMapMask  = RadixTreeMapSize - 1
	RadixTreeMaxTags  = 3 // 2 before 2.6.35's PAGECACHE_TAG_TOWRITE
	radixTreeMaxPath  = (64 + RadixTreeMapShift - 1) / RadixTreeMapShift
)

type radixNode struct {
	height  uint8 // 1 for a leaf node, whose slots hold items
	count   uint8 // occupied slots
	present uint64
	tags    [RadixTreeMaxTags]uint64
	// slots hold *radixNode above height 1 and *T at height 1; the height
	// says which, so the conversions below are always to the stored type.
	slots [RadixTreeMapSize]unsafe.Pointer
}

// RadixTree is struct radix_tree_root with the items it maps: pgoff_t
// index to *T. The zero value is an empty tree.
type RadixTree[T any] struct {
	height uint8
	tags   uint8 // root tags (the kernel keeps them in root->gfp_mask)
	rnode  unsafe.Pointer
	n      int // items, for tests and statistics
	nodes  int // nodes allocated, for memory measurements
}

// maxIndex is radix_tree_maxindex(height).
func maxIndex(height uint8) uint64 {
	if int(height)*RadixTreeMapShift >= 64 {
		return ^uint64(0)
	}
	return 1<<(uint(height)*RadixTreeMapShift) - 1
}

func (r *RadixTree[T]) rootTagGet(tag int) bool { return r.tags&(1<<uint(tag)) != 0 }
func (r *RadixTree[T]) rootTagSet(tag int)      { r.tags |= 1 << uint(tag) }
func (r *RadixTree[T]) rootTagClear(tag int)    { r.tags &^= 1 << uint(tag) }

// Len is the number of items in the tree.
func (r *RadixTree[T]) Len() int { return r.n }

// Nodes is the number of tree nodes allocated now.
func (r *RadixTree[T]) Nodes() int { return r.nodes }

// Height is the tree's height (0 when empty or holding only index 0 at
// the root, as in the kernel).
func (r *RadixTree[T]) Height() int { return int(r.height) }

// extend is radix_tree_extend: grow the tree at the top until index fits.
func (r *RadixTree[T]) extend(index uint64) {
	height := r.height + 1
	for index > maxIndex(height) {
		height++
	}
	if r.rnode == nil {
		r.height = height
		return
	}
	for r.height < height {
		node := &radixNode{height: r.height + 1}
		r.nodes++
		for tag := range RadixTreeMaxTags {
			if r.rootTagGet(tag) {
				node.tags[tag] |= 1
			}
		}
		node.slots[0] = r.rnode
		node.present = 1
		node.count = 1
		r.rnode = unsafe.Pointer(node)
		r.height++
	}
}

// Insert is radix_tree_insert: it returns false (-EEXIST) if the index is
// in use. An item may not be nil.
func (r *RadixTree[T]) Insert(index uint64, item *T) bool {
	if item == nil {
		panic("mm: radix tree insert of nil item")
	}
	if r.height == 0 || index > maxIndex(r.height) {
		r.extend(index)
	}
	if r.height == 0 {
		r.height = 1
	}
	var node *radixNode
	slot := &r.rnode
	height := r.height
	for height > 0 {
		if *slot == nil {
			n := &radixNode{height: height}
			r.nodes++
			*slot = unsafe.Pointer(n)
			if node != nil {
				off := (index >> (uint(node.height-1) * RadixTreeMapShift)) & RadixTreeMapMask
				node.count++
				node.present |= 1 << off
			}
		}
		node = (*radixNode)(*slot)
		off := (index >> (uint(height-1) * RadixTreeMapShift)) & RadixTreeMapMask
		slot = &node.slots[off]
		height--
	}
	if *slot != nil {
		return false
	}
	off := index & RadixTreeMapMask
	*slot = unsafe.Pointer(item)
	node.count++
	node.present |= 1 << off
	r.n++
	return true
}

// Lookup is radix_tree_lookup.
func (r *RadixTree[T]) Lookup(index uint64) *T {
	if r.rnode == nil || index > maxIndex(r.height) {
		return nil
	}
	p := r.rnode
	for h := r.height; h > 0; h-- {
		node := (*radixNode)(p)
		p = node.slots[(index>>(uint(h-1)*RadixTreeMapShift))&RadixTreeMapMask]
		if p == nil {
			return nil
		}
	}
	return (*T)(p)
}

// TagSet is radix_tree_tag_set: tag the item at index, which must exist
// (the kernel BUG_ONs otherwise; here it panics).
func (r *RadixTree[T]) TagSet(index uint64, tag int) *T {
	if index > maxIndex(r.height) || r.rnode == nil {
		panic("mm: radix_tree_tag_set on missing index")
	}
	p := r.rnode
	for h := r.height; h > 0; h-- {
		node := (*radixNode)(p)
		off := (index >> (uint(h-1) * RadixTreeMapShift)) & RadixTreeMapMask
		node.tags[tag] |= 1 << off
		p = node.slots[off]
		if p == nil {
			panic("mm: radix_tree_tag_set on missing index")
		}
	}
	r.rootTagSet(tag)
	return (*T)(p)
}

// TagClear is radix_tree_tag_clear: clear the tag on index and on every
// ancestor slot whose subtree no longer holds a tagged item. It returns
// the item, or nil if there is none.
func (r *RadixTree[T]) TagClear(index uint64, tag int) *T {
	if index > maxIndex(r.height) || r.rnode == nil {
		return nil
	}
	var path [radixTreeMaxPath]*radixNode
	var offs [radixTreeMaxPath]uint
	depth := 0
	p := r.rnode
	for h := r.height; h > 0; h-- {
		node := (*radixNode)(p)
		off := uint((index >> (uint(h-1) * RadixTreeMapShift)) & RadixTreeMapMask)
		path[depth], offs[depth] = node, off
		depth++
		p = node.slots[off]
		if p == nil {
			return nil
		}
	}
	for d := depth - 1; d >= 0; d-- {
		node := path[d]
		if node.tags[tag]&(1<<offs[d]) == 0 {
			return (*T)(p)
		}
		node.tags[tag] &^= 1 << offs[d]
		if node.tags[tag] != 0 {
			return (*T)(p)
		}
	}
	r.rootTagClear(tag)
	return (*T)(p)
}

// TagGet is radix_tree_tag_get.
func (r *RadixTree[T]) TagGet(index uint64, tag int) bool {
	if !r.rootTagGet(tag) || r.rnode == nil || index > maxIndex(r.height) {
		return false
	}
	p := r.rnode
	for h := r.height; h > 0; h-- {
		node := (*radixNode)(p)
		off := (index >> (uint(h-1) * RadixTreeMapShift)) & RadixTreeMapMask
		if node.tags[tag]&(1<<off) == 0 {
			return false
		}
		p = node.slots[off]
		if p == nil {
			return false
		}
	}
	return true
}

// Tagged is radix_tree_tagged: is any item tagged?
func (r *RadixTree[T]) Tagged(tag int) bool { return r.rootTagGet(tag) }

// Delete is radix_tree_delete: remove the item at index (clearing its
// tags), free emptied nodes and shrink the tree. It returns the item, or
// nil if there was none.
func (r *RadixTree[T]) Delete(index uint64) *T {
	if r.rnode == nil || index > maxIndex(r.height) {
		return nil
	}
	var path [radixTreeMaxPath]*radixNode
	var offs [radixTreeMaxPath]uint
	depth := 0
	p := r.rnode
	for h := r.height; h > 0; h-- {
		node := (*radixNode)(p)
		off := uint((index >> (uint(h-1) * RadixTreeMapShift)) & RadixTreeMapMask)
		path[depth], offs[depth] = node, off
		depth++
		p = node.slots[off]
		if p == nil {
			return nil
		}
	}
	item := (*T)(p)
	for tag := range RadixTreeMaxTags {
		if path[depth-1].tags[tag]&(1<<offs[depth-1]) != 0 {
			r.TagClear(index, tag)
		}
	}
	r.n--
	for d := depth - 1; d >= 0; d-- {
		node := path[d]
		node.slots[offs[d]] = nil
		node.present &^= 1 << offs[d]
		node.count--
		if node.count > 0 {
			if d == 0 {
				r.shrink()
			}
			return item
		}
		r.nodes--
	}
	r.height = 0
	r.rnode = nil
	r.tags = 0
	return item
}

// shrink is radix_tree_shrink: drop top nodes that only use slot 0.
func (r *RadixTree[T]) shrink() {
	for r.height > 1 {
		node := (*radixNode)(r.rnode)
		if node.count != 1 || node.slots[0] == nil {
			return
		}
		r.rnode = node.slots[0]
		r.height--
		r.nodes--
	}
}

// walk visits, in index order from start, the items under node (whose
// first index is base) that carry tag (any item when tag < 0), calling fn
// until it returns false. It reports whether to go on.
func walk[T any](node *radixNode, base, start uint64, tag int, fn func(uint64, *T) bool) bool {
	shift := uint(node.height-1) * RadixTreeMapShift
	var off uint
	if start > base {
		off = uint((start - base) >> shift)
		if off >= RadixTreeMapSize {
			return true
		}
	}
	mask := node.present
	if tag >= 0 {
		mask = node.tags[tag]
	}
	mask &= ^uint64(0) << off
	for mask != 0 {
		i := uint(bits.TrailingZeros64(mask))
		mask &^= 1 << i
		idx := base + uint64(i)<<shift
		if node.height == 1 {
			if !fn(idx, (*T)(node.slots[i])) {
				return false
			}
			continue
		}
		if !walk((*radixNode)(node.slots[i]), idx, max(start, idx), tag, fn) {
			return false
		}
	}
	return true
}

// Range calls fn for every item at index >= start in index order (only
// items carrying tag when tag >= 0) until fn returns false. It is the
// traversal under the gang lookups.
func (r *RadixTree[T]) Range(start uint64, tag int, fn func(index uint64, item *T) bool) {
	if r.rnode == nil || start > maxIndex(r.height) {
		return
	}
	if tag >= 0 && !r.rootTagGet(tag) {
		return
	}
	walk((*radixNode)(r.rnode), 0, start, tag, fn)
}

// GangLookup is radix_tree_gang_lookup: up to len(results) items at
// index >= first, in index order. It returns how many it stored.
func (r *RadixTree[T]) GangLookup(results []*T, first uint64) int {
	n := 0
	if len(results) == 0 {
		return 0
	}
	r.Range(first, -1, func(_ uint64, it *T) bool {
		results[n] = it
		n++
		return n < len(results)
	})
	return n
}

// GangLookupTag is radix_tree_gang_lookup_tag: like GangLookup, only
// items carrying tag.
func (r *RadixTree[T]) GangLookupTag(results []*T, first uint64, tag int) int {
	n := 0
	if len(results) == 0 {
		return 0
	}
	r.Range(first, tag, func(_ uint64, it *T) bool {
		results[n] = it
		n++
		return n < len(results)
	})
	return n
}

// RangeTagIfTagged is radix_tree_range_tag_if_tagged, lib/radix-tree.c,
// Linux 3.2: set settag on up to nrToTag items in [*first, last] that carry
// iftag, and advance *first to where the next call should resume: past
// the last item tagged when the batch filled up, else last+1 (wrapping to
// 0 at the top of the index space, which the caller uses to stop).
func (r *RadixTree[T]) RangeTagIfTagged(first *uint64, last uint64, nrToTag uint64, iftag, settag int) uint64 {
	if !r.rootTagGet(iftag) || nrToTag == 0 {
		*first = last + 1
		return 0
	}
	var tagged uint64
	next := last + 1
	r.Range(*first, iftag, func(idx uint64, _ *T) bool {
		if idx > last {
			return false
		}
		r.TagSet(idx, settag)
		tagged++
		if tagged >= nrToTag {
			next = idx + 1
			return false
		}
		return true
	})
	*first = next
	return tagged
}
