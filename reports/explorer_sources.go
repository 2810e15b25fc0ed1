package reports

import (
	"fmt"
	"strconv"
	"strings"
)

// A seedSource is where a seed file (the kernel source wbsim models, in
// /work/shared/seeds) comes from, and which tag of it the explorer links
// to in the Elixir source browser. The seeds are copies of one kernel of
// their era each: 2.6.12-rc2 for 2.6.12 (linked as v2.6.12), and for the
// "about" eras the version the model's other comments cite (2.6.32 for
// 2.6.2x, 2.6.35 for AFS) or the first of the range with a plug and
// cleancache (3.2 for 3.x). A seed line number may differ by a few lines
// from the linked tag's; the function link (Elixir's identifier search)
// finds the function in any case.
type seedSource struct {
	Path, Era, Tag string
}

var seedSources = map[string]seedSource{
	"mpage-2.6.12.numbered.c": {"fs/mpage.c", "2.6.12", "v2.6.12"},
	"mpage-2.6.2x.c":          {"fs/mpage.c", "2.6.2x", "v2.6.32"},
	"mpage-3.x.c":             {"fs/mpage.c", "3.x", "v3.2"},
	"afs-write-2.6.3x.c":      {"fs/afs/write.c", "afs-2.6.3x", "v2.6.35"},
}

// eraTags are the Elixir tags of each era, for functions the model does
// not cite a seed line for (write_cache_pages, submit_bio, ...): they link
// to an identifier search.
var eraTags = map[string]string{"2.6.12": "v2.6.12", "2.6.2x": "v2.6.32", "3.x": "v3.2", "afs-2.6.3x": "v2.6.35"}

// seedEnds is the last line (the closing brace) of each function the
// model cites by its first line, measured on the seed files (a test
// checks them when ../shared/seeds is there).
var seedEnds = map[string]int{
	"afs-write-2.6.3x.c:25":       29,
	"afs-write-2.6.3x.c:35":       52,
	"afs-write-2.6.3x.c:57":       62,
	"afs-write-2.6.3x.c:67":       81,
	"afs-write-2.6.3x.c:86":       115,
	"afs-write-2.6.3x.c:120":      241,
	"afs-write-2.6.3x.c:246":      274,
	"afs-write-2.6.3x.c:279":      311,
	"afs-write-2.6.3x.c:317":      433,
	"afs-write-2.6.3x.c:439":      460,
	"afs-write-2.6.3x.c:465":      534,
	"afs-write-2.6.3x.c:539":      568,
	"afs-write-2.6.3x.c:573":      624,
	"afs-write-2.6.3x.c:629":      657,
	"afs-write-2.6.3x.c:662":      679,
	"afs-write-2.6.3x.c:686":      735,
	"afs-write-2.6.3x.c:741":      756,
	"mpage-2.6.12.numbered.c:42":  66,
	"mpage-2.6.12.numbered.c:68":  88,
	"mpage-2.6.12.numbered.c:90":  97,
	"mpage-2.6.12.numbered.c:99":  118,
	"mpage-2.6.12.numbered.c:130": 161,
	"mpage-2.6.12.numbered.c:209": 321,
	"mpage-2.6.12.numbered.c:324": 354,
	"mpage-2.6.12.numbered.c:360": 370,
	"mpage-2.6.12.numbered.c:389": 603,
	"mpage-2.6.12.numbered.c:627": 632,
	"mpage-2.6.12.numbered.c:635": 754,
	"mpage-2.6.12.numbered.c:758": 771,
	"mpage-2.6.2x.c:40":           57,
	"mpage-2.6.2x.c:58":           74,
	"mpage-2.6.2x.c:75":           82,
	"mpage-2.6.2x.c:83":           99,
	"mpage-2.6.2x.c:110":          140,
	"mpage-2.6.2x.c:150":          295,
	"mpage-2.6.2x.c:339":          368,
	"mpage-2.6.2x.c:373":          386,
	"mpage-2.6.2x.c:410":          598,
	"mpage-2.6.2x.c:618":          637,
	"mpage-2.6.2x.c:639":          652,
	"mpage-3.x.c:44":              72,
	"mpage-3.x.c:74":              79,
	"mpage-3.x.c:81":              100,
	"mpage-3.x.c:112":             143,
	"mpage-3.x.c:154":             320,
	"mpage-3.x.c:365":             396,
	"mpage-3.x.c:402":             416,
	"mpage-3.x.c:443":             651,
	"mpage-3.x.c:672":             697,
	"mpage-3.x.c:700":             713,
}

// elixir is the Elixir source browser's base URL.
const elixir = "https://elixir.bootlin.com/linux/"

// sourceRef is a call-stack frame's source: the kernel file, era and
// seed lines of the function, and links into Elixir.
type sourceRef struct {
	Fn    string `json:"fn"`
	File  string `json:"file,omitempty"`  // kernel path, e.g. fs/mpage.c
	Seed  string `json:"seed,omitempty"`  // seed citation, e.g. mpage-3.x.c:672-697
	Era   string `json:"era,omitempty"`   // 2.6.12, 2.6.2x, 3.x, afs-2.6.3x
	URL   string `json:"url,omitempty"`   // the era's source at the seed line
	Ident string `json:"ident,omitempty"` // an identifier search in the era's tag
}

// citeSource resolves a function and its EnterAt citation ("seed:line",
// or "" when the model gives none); era is the run's era, for uncited
// functions ("" if unknown).
func citeSource(fn, cite, era string) sourceRef {
	r := sourceRef{Fn: fn, Era: era}
	file, line, ok := strings.Cut(cite, ":")
	src, known := seedSources[file]
	n, err := strconv.Atoi(line)
	if ok && known && err == nil {
		r.File, r.Era = src.Path, src.Era
		r.Seed = cite
		if end, ok := seedEnds[cite]; ok {
			r.Seed = fmt.Sprintf("%s-%d", cite, end)
		}
		r.URL = fmt.Sprintf("%s%s/source/%s#L%d", elixir, src.Tag, src.Path, n)
	}
	if tag, ok := eraTags[r.Era]; ok {
		r.Ident = elixir + tag + "/A/ident/" + fn
	}
	return r
}

// eraOf guesses a run's era from the seed files its Enter events cite.
func eraOf(cites []string) string {
	for _, c := range cites {
		file, _, _ := strings.Cut(c, ":")
		if s, ok := seedSources[file]; ok {
			return s.Era
		}
	}
	return ""
}
