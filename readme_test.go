package otelbearer_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMESnippetsCompile: every Go snippet of README.md appears verbatim
// in an example file of this package, which the compiler checks.
func TestREADMESnippetsCompile(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("example*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var examples strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		examples.Write(b)
	}
	snippets := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllSubmatch(readme, -1)
	if len(snippets) == 0 {
		t.Fatal("no Go snippet found in README.md")
	}
	for _, m := range snippets {
		if !strings.Contains(examples.String(), string(m[1])) {
			t.Errorf("README.md snippet not in any example*_test.go:\n%s", m[1])
		}
	}
}
