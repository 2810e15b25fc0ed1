package afs

import (
	"strings"
	"testing"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim/content"
)

// TestShapeRules: a request that agrees with what it carries passes; each
// planted disagreement is named.
func TestShapeRules(t *testing.T) {
	// pages 0-1, bytes 200 to 4200, i_size 100 when built
	store := func() *request {
		return &request{op: faultdisk.OpStore, file: 1, off: 200, len: 4000, iSize: 4200,
			data: content.Zeros(4000), sent: sentStore(0, 1, 200, 104, 100)}
	}
	page := &mm.Page{Index: 2}
	fetch := func() *request {
		return &request{op: faultdisk.OpFetch, file: 1, off: 2 * mm.PageSize, len: mm.PageSize, sent: sentFetch(page)}
	}
	if msg := shapeError(store()); msg != "" {
		t.Fatalf("a well-formed store: %s", msg)
	}
	if msg := shapeError(fetch()); msg != "" {
		t.Fatalf("a well-formed fetch: %s", msg)
	}
	cases := []struct {
		name, want string
		r          *request
		plant      func(r *request)
	}{
		{"length", "carries", store(), func(r *request) { r.len += 1 << 32 }},
		{"offset", "its pages", store(), func(r *request) { r.off += mm.PageSize; r.data = content.Zeros(r.len) }},
		{"file length", "should be", store(), func(r *request) { r.iSize = 100 }},
		{"32-bit field", "should be", store(), func(r *request) { r.sent.iSize = 1<<32 + 5 }},
		{"fetch offset", "to fill page 2", fetch(), func(r *request) { r.off = 0 }},
		{"fetch length", "to fill page 2", fetch(), func(r *request) { r.len = mm.PageSize + 1 }},
		{"setattr length", "carries", &request{op: faultdisk.OpStore, file: 1, iSize: 10}, func(r *request) { r.len = 10 }},
	}
	for _, c := range cases {
		c.plant(c.r)
		if msg := shapeError(c.r); !strings.Contains(msg, c.want) {
			t.Errorf("%s: %q, want it to say %q", c.name, msg, c.want)
		}
	}
}
