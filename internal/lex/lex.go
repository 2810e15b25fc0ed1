// Package lex is the tokenizer wbsim's two line languages share: the
// scenario language (package scenarios) and the fault-plan language
// (package faultdisk). A line is cut into bare words, Go-quoted strings
// and, for the fault-plan language, the separators ":" and ","; a "#"
// starts a comment that runs to the end of the line.
//
// The two languages differ in two small ways, which Lang carries: the
// fault-plan language has separators, and it skips a carriage return
// anywhere on a line, while the scenario language strips one only at a
// line's end (when it splits lines) and rejects one elsewhere. Both are
// kept so that each language accepts and rejects exactly what it did
// before the tokenizer was shared.
package lex

import (
	"fmt"
	"strconv"
)

// Kind is a token's kind.
type Kind uint8

const (
	Word   Kind = iota // a bare word
	String             // a Go-quoted string; Text is unquoted
	Colon              // ":" (languages with Separators only)
	Comma              // "," (languages with Separators only)
	EOL                // the end of the line (or of its tokens, before a comment)
)

// Token is one token of a line.
type Token struct {
	Kind Kind
	Text string // unquoted for String
	Raw  string // as written
	Col  int    // 1-based, in bytes
}

// Describe names the token for an error message: "end of line", or the
// token as written, Go-quoted.
func (t Token) Describe() string {
	if t.Kind == EOL {
		return "end of line"
	}
	return strconv.Quote(t.Raw)
}

// Lang is what differs between the languages' tokens.
type Lang struct {
	// Separators makes ":" and "," tokens of their own, which end a
	// word; without it they are word bytes.
	Separators bool
	// SkipCR skips a carriage return as white space; without it, one is
	// an unexpected control character.
	SkipCR bool
}

// Error is a tokenizing error at a 1-based column of the line.
type Error struct {
	Col int
	Msg string
}

// WordByte reports whether c may appear in a bare word: printable ASCII
// other than space, '#', '"' and, with Separators, ':' and ','.
func (l Lang) WordByte(c byte) bool {
	if l.Separators && (c == ':' || c == ',') {
		return false
	}
	return c > ' ' && c < 0x7f && c != '#' && c != '"'
}

// Bare reports whether s can be written as a bare word.
func (l Lang) Bare(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !l.WordByte(s[i]) {
			return false
		}
	}
	return true
}

// Quote prints a name bare if it can be, else Go-quoted.
func (l Lang) Quote(s string) string {
	if l.Bare(s) {
		return s
	}
	return strconv.Quote(s)
}

// Line splits one line (without its newline) into tokens ending with an
// EOL token. comment is the offset of the "#" that starts a comment at
// the line's end, or -1; the caller decides what a comment may hold.
func (l Lang) Line(line string) (toks []Token, comment int, err *Error) {
	i := 0
	for i < len(line) {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || (c == '\r' && l.SkipCR):
			i++
		case c == '#':
			toks = append(toks, Token{Kind: EOL, Col: len(line) + 1})
			return toks, i, nil
		case l.Separators && c == ':':
			toks = append(toks, Token{Kind: Colon, Text: ":", Raw: ":", Col: i + 1})
			i++
		case l.Separators && c == ',':
			toks = append(toks, Token{Kind: Comma, Text: ",", Raw: ",", Col: i + 1})
			i++
		case c == '"':
			j := i + 1
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(line) {
				return nil, -1, &Error{i + 1, "unterminated quoted string"}
			}
			raw := line[i : j+1]
			s, uerr := strconv.Unquote(raw)
			if uerr != nil {
				return nil, -1, &Error{i + 1, "invalid quoted string " + raw + " (use Go string syntax)"}
			}
			toks = append(toks, Token{Kind: String, Text: s, Raw: raw, Col: i + 1})
			i = j + 1
		case l.WordByte(c):
			j := i
			for j < len(line) && l.WordByte(line[j]) {
				j++
			}
			toks = append(toks, Token{Kind: Word, Text: line[i:j], Raw: line[i:j], Col: i + 1})
			i = j
		case c >= 0x80:
			return nil, -1, &Error{i + 1, "unexpected non-ASCII byte; quote names that are not plain ASCII"}
		default:
			return nil, -1, &Error{i + 1, fmt.Sprintf("unexpected control character %q", c)}
		}
	}
	toks = append(toks, Token{Kind: EOL, Col: len(line) + 1})
	return toks, -1, nil
}

// Tokens is a line's tokens with a read position, the cursor both
// languages' parsers read a line with.
type Tokens struct {
	toks []Token
	pos  int
}

// NewTokens reads toks (ending with an EOL token) from toks[pos].
func NewTokens(toks []Token, pos int) Tokens { return Tokens{toks, pos} }

// Peek returns the next token without taking it.
func (ts *Tokens) Peek() Token { return ts.toks[ts.pos] }

// Next takes the next token; at the end it keeps returning EOL.
func (ts *Tokens) Next() Token {
	t := ts.toks[ts.pos]
	if t.Kind != EOL {
		ts.pos++
	}
	return t
}

// AllDigits reports whether s is one or more ASCII decimal digits.
func AllDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
