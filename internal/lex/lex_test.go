package lex

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The two languages' differences: separators and carriage returns.
func TestLangDifferences(t *testing.T) {
	plan := Lang{Separators: true, SkipCR: true}
	scen := Lang{}

	toks, hash, err := plan.Line("a:b,\r\"c d\" # note")
	if err != nil {
		t.Fatal(err)
	}
	want := []Token{
		{Word, "a", "a", 1}, {Colon, ":", ":", 2}, {Word, "b", "b", 3},
		{Comma, ",", ",", 4}, {String, "c d", `"c d"`, 6}, {EOL, "", "", 18},
	}
	if d := cmp.Diff(want, toks); d != "" {
		t.Errorf("plan tokens (-want +got):\n%s", d)
	}
	if hash != 11 {
		t.Errorf("comment at %d, want 11", hash)
	}

	toks, hash, err = scen.Line("a:b, x")
	if err != nil || hash != -1 {
		t.Fatal(err, hash)
	}
	want = []Token{{Word, "a:b,", "a:b,", 1}, {Word, "x", "x", 6}, {EOL, "", "", 7}}
	if d := cmp.Diff(want, toks); d != "" {
		t.Errorf("scenario tokens (-want +got):\n%s", d)
	}
	if _, _, err := scen.Line("a\rb"); err == nil || err.Col != 2 || err.Msg != `unexpected control character '\r'` {
		t.Errorf("scenario carriage return: %+v", err)
	}
}

func TestLineErrors(t *testing.T) {
	for _, tc := range []struct {
		line string
		col  int
		msg  string
	}{
		{`x "abc`, 3, "unterminated quoted string"},
		{`"\q"`, 1, `invalid quoted string "\q" (use Go string syntax)`},
		{"a é", 3, "unexpected non-ASCII byte; quote names that are not plain ASCII"},
	} {
		_, _, err := Lang{}.Line(tc.line)
		if err == nil || err.Col != tc.col || err.Msg != tc.msg {
			t.Errorf("%q: got %+v, want %d: %s", tc.line, err, tc.col, tc.msg)
		}
	}
}

func TestQuoteAndDigits(t *testing.T) {
	plan := Lang{Separators: true}
	if got := plan.Quote("a:b"); got != `"a:b"` {
		t.Errorf("plan Quote(a:b) = %s", got)
	}
	if got := (Lang{}).Quote("a:b"); got != "a:b" {
		t.Errorf("scenario Quote(a:b) = %s", got)
	}
	if got := (Lang{}).Quote(""); got != `""` {
		t.Errorf("Quote(\"\") = %s", got)
	}
	for s, want := range map[string]bool{"": false, "0": true, "123": true, "1a": false, "-1": false} {
		if AllDigits(s) != want {
			t.Errorf("AllDigits(%q) = %v", s, !want)
		}
	}
}

// Next stops at the end of the line: a parser that reads too far gets EOL
// again, never an index out of range.
func TestTokensStopAtEOL(t *testing.T) {
	toks, _, err := Lang{}.Line("a b")
	if err != nil {
		t.Fatal(err)
	}
	ts := NewTokens(toks, 1)
	if got := ts.Peek(); got.Text != "b" {
		t.Fatalf("Peek = %+v, want b", got)
	}
	for _, want := range []Kind{Word, EOL, EOL} {
		if got := ts.Next(); got.Kind != want {
			t.Errorf("Next = %+v, want kind %d", got, want)
		}
	}
}
