package scenarios

import (
	"fmt"
	"strings"
)

// numbered prefixes each line of text with its number, for failure output.
func numbered(text string) string {
	var b strings.Builder
	for i, l := range strings.Split(text, "\n") {
		fmt.Fprintf(&b, "%3d| %s\n", i+1, l)
	}
	return b.String()
}
