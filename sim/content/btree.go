package content

import "slices"

// This file holds a copy-on-write B-tree of runs keyed by Off, after the
// design of github.com/google/btree (items in every node, nodes split on the
// way down on insert and grown on the way down on delete), specialised to Run
// to keep a run at 32 bytes with no interface boxing.
//
// Copy-on-write: every node records the token of the tree that created it. A
// tree changes a node in place only when the node carries the tree's own
// token; otherwise it copies the node first. Cloning gives both trees fresh
// tokens, so from then on neither changes a node they share.

// defaultDegree is the B-tree's minimum degree: nodes hold 31 to 63 runs, so
// a node's run array (63 × 32 bytes) fits a 2 KiB allocation.
const defaultDegree = 32

// cowToken identifies the tree that may change a node in place. It must not
// be zero-sized: distinct tokens need distinct addresses.
type cowToken struct{ _ byte }

type node struct {
	items    []Run   // sorted by Off; capacity maxItems
	children []*node // nil in a leaf, else len(items)+1 children
	cow      *cowToken
}

type tree struct {
	root   *node // nil when empty; otherwise holds at least one run
	cow    *cowToken
	length int // number of runs
	degree int // minimum degree; 0 means defaultDegree
}

func (t *tree) deg() int {
	if t.degree == 0 {
		return defaultDegree
	}
	return t.degree
}

func (t *tree) maxItems() int { return 2*t.deg() - 1 }
func (t *tree) minItems() int { return t.deg() - 1 }

func (t *tree) newNode(leaf bool) *node {
	n := &node{items: make([]Run, 0, t.maxItems()), cow: t.cow}
	if !leaf {
		n.children = make([]*node, 0, t.maxItems()+1)
	}
	return n
}

// clone returns a copy of t sharing all nodes; t and the copy each get a new
// token.
func (t *tree) clone() tree {
	out := *t
	t.cow, out.cow = new(cowToken), new(cowToken)
	return out
}

func (n *node) leaf() bool { return n.children == nil }

// search returns the index of the first item with Off >= off and whether its
// Off equals off.
func search(items []Run, off int64) (int, bool) {
	i, j := 0, len(items)
	for i < j {
		h := int(uint(i+j) >> 1)
		if items[h].Off < off {
			i = h + 1
		} else {
			j = h
		}
	}
	return i, i < len(items) && items[i].Off == off
}

// mutableFor returns n, or a copy of n that t may change.
func (n *node) mutableFor(t *tree) *node {
	if n.cow == t.cow {
		return n
	}
	c := t.newNode(n.leaf())
	c.items = append(c.items, n.items...)
	if !n.leaf() {
		c.children = append(c.children, n.children...)
	}
	return c
}

func (n *node) mutableChild(t *tree, i int) *node {
	c := n.children[i].mutableFor(t)
	n.children[i] = c
	return c
}

// insert adds r, replacing the run with the same Off if there is one.
func (t *tree) insert(r Run) {
	if t.root == nil {
		t.root = t.newNode(true)
		t.root.items = append(t.root.items, r)
		t.length++
		return
	}
	t.root = t.root.mutableFor(t)
	if len(t.root.items) >= t.maxItems() {
		mid, second := t.root.split(t, t.maxItems()/2)
		old := t.root
		t.root = t.newNode(false)
		t.root.items = append(t.root.items, mid)
		t.root.children = append(t.root.children, old, second)
	}
	if !t.root.insert(t, r) {
		t.length++
	}
}

// insert adds r below n, which t may change and which is not full, and
// reports whether it replaced a run.
func (n *node) insert(t *tree, r Run) (replaced bool) {
	for {
		i, found := search(n.items, r.Off)
		if found {
			n.items[i] = r
			return true
		}
		if n.leaf() {
			n.items = slices.Insert(n.items, i, r)
			return false
		}
		if n.maybeSplitChild(t, i) {
			switch mid := n.items[i].Off; {
			case r.Off == mid:
				n.items[i] = r
				return true
			case r.Off > mid:
				i++
			}
		}
		n = n.mutableChild(t, i)
	}
}

// split moves the items after i (and their children) to a new node and
// returns item i and the new node.
func (n *node) split(t *tree, i int) (Run, *node) {
	mid := n.items[i]
	next := t.newNode(n.leaf())
	next.items = append(next.items, n.items[i+1:]...)
	n.items = n.items[:i]
	if !n.leaf() {
		next.children = append(next.children, n.children[i+1:]...)
		clear(n.children[i+1:])
		n.children = n.children[:i+1]
	}
	return mid, next
}

// maybeSplitChild splits child i if it is full and reports whether it did.
func (n *node) maybeSplitChild(t *tree, i int) bool {
	if len(n.children[i].items) < t.maxItems() {
		return false
	}
	first := n.mutableChild(t, i)
	mid, second := first.split(t, t.maxItems()/2)
	n.items = slices.Insert(n.items, i, mid)
	n.children = slices.Insert(n.children, i+1, second)
	return true
}

type removeKind int

const (
	removeKey removeKind = iota // the run with a given Off
	removeMax                   // the last run
)

// delete removes the run starting at off, if any.
func (t *tree) delete(off int64) { t.remove(off, removeKey) }

// deleteMax removes the last run, if any.
func (t *tree) deleteMax() { t.remove(0, removeMax) }

func (t *tree) remove(off int64, kind removeKind) {
	if t.root == nil {
		return
	}
	t.root = t.root.mutableFor(t)
	_, ok := t.root.remove(t, off, kind)
	if len(t.root.items) == 0 {
		if t.root.leaf() {
			t.root = nil
		} else {
			t.root = t.root.children[0]
		}
	}
	if ok {
		t.length--
	}
}

// remove removes a run below n, which t may change and which has more than
// minItems runs unless it is the root.
func (n *node) remove(t *tree, off int64, kind removeKind) (Run, bool) {
	var i int
	var found bool
	switch kind {
	case removeMax:
		if n.leaf() {
			r := n.items[len(n.items)-1]
			n.items = n.items[:len(n.items)-1]
			return r, true
		}
		i = len(n.items)
	case removeKey:
		i, found = search(n.items, off)
		if n.leaf() {
			if !found {
				return Run{}, false
			}
			r := n.items[i]
			n.items = slices.Delete(n.items, i, i+1)
			return r, true
		}
	}
	if len(n.children[i].items) <= t.minItems() {
		return n.growChildAndRemove(t, i, off, kind)
	}
	child := n.mutableChild(t, i)
	if found {
		// Replace item i by its predecessor, the last run of child i.
		out := n.items[i]
		n.items[i], _ = child.remove(t, 0, removeMax)
		return out, true
	}
	return child.remove(t, off, kind)
}

// growChildAndRemove gives child i more than minItems runs, by stealing from
// a sibling or merging with one, then removes as remove does.
func (n *node) growChildAndRemove(t *tree, i int, off int64, kind removeKind) (Run, bool) {
	switch {
	case i > 0 && len(n.children[i-1].items) > t.minItems():
		// Steal from the left sibling.
		child, left := n.mutableChild(t, i), n.mutableChild(t, i-1)
		stolen := left.items[len(left.items)-1]
		left.items = left.items[:len(left.items)-1]
		child.items = slices.Insert(child.items, 0, n.items[i-1])
		n.items[i-1] = stolen
		if !left.leaf() {
			last := len(left.children) - 1
			child.children = slices.Insert(child.children, 0, left.children[last])
			left.children[last] = nil
			left.children = left.children[:last]
		}
	case i < len(n.items) && len(n.children[i+1].items) > t.minItems():
		// Steal from the right sibling.
		child, right := n.mutableChild(t, i), n.mutableChild(t, i+1)
		stolen := right.items[0]
		right.items = slices.Delete(right.items, 0, 1)
		child.items = append(child.items, n.items[i])
		n.items[i] = stolen
		if !right.leaf() {
			child.children = append(child.children, right.children[0])
			right.children = slices.Delete(right.children, 0, 1)
		}
	default:
		// Merge child i with its right sibling (or child i-1 with child i).
		if i >= len(n.items) {
			i--
		}
		child := n.mutableChild(t, i)
		sep, right := n.items[i], n.children[i+1]
		n.items = slices.Delete(n.items, i, i+1)
		n.children = slices.Delete(n.children, i+1, i+2)
		child.items = append(child.items, sep)
		child.items = append(child.items, right.items...)
		if !child.leaf() {
			child.children = append(child.children, right.children...)
		}
	}
	return n.remove(t, off, kind)
}

// floor returns the last run with Off <= off.
func (t *tree) floor(off int64) (Run, bool) {
	var best Run
	ok := false
	for n := t.root; n != nil; {
		i, found := search(n.items, off)
		if found {
			return n.items[i], true
		}
		if i > 0 {
			best, ok = n.items[i-1], true
		}
		if n.leaf() {
			break
		}
		n = n.children[i]
	}
	return best, ok
}

// last returns the last run.
func (t *tree) last() (Run, bool) {
	n := t.root
	if n == nil {
		return Run{}, false
	}
	for !n.leaf() {
		n = n.children[len(n.children)-1]
	}
	return n.items[len(n.items)-1], true
}

// appendRange appends to dst, in order, the runs below n with lo < Off <= hi.
func (n *node) appendRange(dst []Run, lo, hi int64) []Run {
	i, found := search(n.items, lo)
	if found {
		i++
	}
	for ; ; i++ {
		if !n.leaf() {
			dst = n.children[i].appendRange(dst, lo, hi)
		}
		if i == len(n.items) || n.items[i].Off > hi {
			return dst
		}
		dst = append(dst, n.items[i])
	}
}

// all yields the runs below n in order.
func (n *node) all(yield func(Run) bool) bool {
	for i, r := range n.items {
		if !n.leaf() && !n.children[i].all(yield) {
			return false
		}
		if !yield(r) {
			return false
		}
	}
	return n.leaf() || n.children[len(n.items)].all(yield)
}

// cursor walks a tree in order without recursion, so that two trees can be
// walked in step.
type cursor struct {
	stack []frame
}

type frame struct {
	n *node
	i int // next item of n to yield; children[:i+1] are entered or done
}

func newCursor(root *node) *cursor {
	c := &cursor{}
	c.pushLeft(root)
	return c
}

func (c *cursor) pushLeft(n *node) {
	for n != nil {
		c.stack = append(c.stack, frame{n: n})
		if n.leaf() {
			return
		}
		n = n.children[0]
	}
}

func (c *cursor) next() (Run, bool) {
	for len(c.stack) > 0 {
		top := &c.stack[len(c.stack)-1]
		if top.i < len(top.n.items) {
			n, i := top.n, top.i
			top.i++
			if !n.leaf() {
				c.pushLeft(n.children[i+1])
			}
			return n.items[i], true
		}
		c.stack = c.stack[:len(c.stack)-1]
	}
	return Run{}, false
}
