package mm

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"
)

// The radix tree against a reference: a map from index to (item, tags),
// with lookups done by sorting the keys.
type refItem struct {
	v    *int
	tags [RadixTreeMaxTags]bool
}

func indexGen() *rapid.Generator[uint64] {
	return rapid.OneOf(
		rapid.Uint64Range(0, 200),
		rapid.Uint64Range(1<<32-100, 1<<32+100),
		rapid.Uint64Range(1<<40-100, 1<<40+100),
		rapid.Uint64Range(^uint64(0)-100, ^uint64(0)),
	)
}

func sortedKeys(m map[uint64]*refItem) []uint64 {
	ks := make([]uint64, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func TestRadixTreeProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var tree RadixTree[int]
		ref := map[uint64]*refItem{}
		known := []uint64{0}
		idx := func(rt *rapid.T, label string) uint64 {
			if len(known) > 0 && rapid.Bool().Draw(rt, label+"-known") {
				return rapid.SampledFrom(known).Draw(rt, label)
			}
			i := indexGen().Draw(rt, label)
			known = append(known, i)
			return i
		}
		rt.Repeat(map[string]func(*rapid.T){
			"insert": func(rt *rapid.T) {
				i := idx(rt, "index")
				v := new(int)
				*v = int(i)
				_, exists := ref[i]
				if got := tree.Insert(i, v); got == exists {
					rt.Fatalf("insert %d: got %v, exists %v", i, got, exists)
				}
				if !exists {
					ref[i] = &refItem{v: v}
				}
			},
			"delete": func(rt *rapid.T) {
				i := idx(rt, "index")
				got := tree.Delete(i)
				want := ref[i]
				if (got == nil) != (want == nil) || want != nil && got != want.v {
					rt.Fatalf("delete %d: got %v want %v", i, got, want)
				}
				delete(ref, i)
			},
			"lookup": func(rt *rapid.T) {
				i := idx(rt, "index")
				got := tree.Lookup(i)
				if want := ref[i]; (got == nil) != (want == nil) || want != nil && got != want.v {
					rt.Fatalf("lookup %d", i)
				}
			},
			"tag_set": func(rt *rapid.T) {
				ks := sortedKeys(ref)
				if len(ks) == 0 {
					rt.Skip("empty")
				}
				i := rapid.SampledFrom(ks).Draw(rt, "index")
				tag := rapid.IntRange(0, RadixTreeMaxTags-1).Draw(rt, "tag")
				tree.TagSet(i, tag)
				ref[i].tags[tag] = true
			},
			"tag_clear": func(rt *rapid.T) {
				i := idx(rt, "index")
				tag := rapid.IntRange(0, RadixTreeMaxTags-1).Draw(rt, "tag")
				tree.TagClear(i, tag)
				if r := ref[i]; r != nil {
					r.tags[tag] = false
				}
			},
			"gang_lookup": func(rt *rapid.T) {
				first := idx(rt, "first")
				n := rapid.IntRange(1, 20).Draw(rt, "n")
				out := make([]*int, n)
				got := out[:tree.GangLookup(out, first)]
				var want []*int
				for _, k := range sortedKeys(ref) {
					if k >= first && len(want) < n {
						want = append(want, ref[k].v)
					}
				}
				if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
					rt.Fatalf("gang_lookup(%d, %d): %s", first, n, d)
				}
			},
			"gang_lookup_tag": func(rt *rapid.T) {
				first := idx(rt, "first")
				n := rapid.IntRange(1, 20).Draw(rt, "n")
				tag := rapid.IntRange(0, RadixTreeMaxTags-1).Draw(rt, "tag")
				out := make([]*int, n)
				got := out[:tree.GangLookupTag(out, first, tag)]
				var want []*int
				for _, k := range sortedKeys(ref) {
					if k >= first && ref[k].tags[tag] && len(want) < n {
						want = append(want, ref[k].v)
					}
				}
				if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
					rt.Fatalf("gang_lookup_tag(%d, %d, %d): %s", first, n, tag, d)
				}
			},
			"range_tag_if_tagged": func(rt *rapid.T) {
				first := idx(rt, "first")
				last := idx(rt, "last")
				nr := rapid.Uint64Range(1, 10).Draw(rt, "nr")
				start := first
				got := tree.RangeTagIfTagged(&first, last, nr, PAGECACHE_TAG_DIRTY, PAGECACHE_TAG_TOWRITE)
				var tagged uint64
				next := last + 1
				for _, k := range sortedKeys(ref) {
					if k < start || k > last || !ref[k].tags[PAGECACHE_TAG_DIRTY] {
						continue
					}
					ref[k].tags[PAGECACHE_TAG_TOWRITE] = true
					tagged++
					if tagged >= nr {
						next = k + 1
						break
					}
				}
				if start > last {
					tagged, next = 0, last+1
				}
				if got != tagged || first != next {
					rt.Fatalf("range_tag_if_tagged(%d, %d, %d) = %d next %d, want %d next %d", start, last, nr, got, first, tagged, next)
				}
			},
			"": func(rt *rapid.T) {
				if tree.Len() != len(ref) {
					rt.Fatalf("len %d want %d", tree.Len(), len(ref))
				}
				for tag := range RadixTreeMaxTags {
					any := false
					for k, r := range ref {
						if tree.TagGet(k, tag) != r.tags[tag] {
							rt.Fatalf("tag_get(%d, %d) = %v", k, tag, !r.tags[tag])
						}
						any = any || r.tags[tag]
					}
					if tree.Tagged(tag) != any {
						rt.Fatalf("tagged(%d) = %v want %v", tag, !any, any)
					}
				}
				if len(ref) == 0 && (tree.Nodes() != 0 || tree.Height() != 0) {
					rt.Fatalf("empty tree keeps %d nodes, height %d", tree.Nodes(), tree.Height())
				}
			},
		})
	})
}

// Deleting everything frees every node; a dense tree has the expected
// number of nodes.
func TestRadixTreeNodes(t *testing.T) {
	var tree RadixTree[int]
	v := new(int)
	for i := range uint64(4096) {
		tree.Insert(i, v)
	}
	if tree.Nodes() != 64+1 || tree.Height() != 2 {
		t.Fatalf("4096 dense items: %d nodes, height %d; want 65, 2", tree.Nodes(), tree.Height())
	}
	tree.Insert(1<<40, v)
	tree.Delete(1 << 40)
	if tree.Height() != 2 {
		t.Fatalf("shrink: height %d", tree.Height())
	}
	for i := range uint64(4096) {
		tree.Delete(i)
	}
	if tree.Nodes() != 0 || tree.Len() != 0 {
		t.Fatalf("%d nodes left", tree.Nodes())
	}
}
