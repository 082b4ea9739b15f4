package readme

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idemq/idemq/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestSnippetsAreTheExamples checks that every Go block of README.md is one
// of the example programs, from its package clause on, and that every
// example appears: a snippet that compiles because it is the example.
func TestSnippetsAreTheExamples(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	paths, err := filepath.Glob("../../examples/*/main.go")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	examples := map[string]string{}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := string(src)
		examples[p] = strings.TrimRight(s[strings.Index(s, "package main"):], "\n")
	}
	blocks := goBlocks(string(readme))
	for _, b := range blocks {
		found := false
		for _, ex := range examples {
			found = found || b == ex
		}
		if !found {
			t.Errorf("a Go block of README.md is none of the examples (edit examples/*/main.go and copy it):\n%.300s", b)
		}
	}
	for p, ex := range examples {
		if !strings.Contains(string(readme), ex) {
			t.Errorf("README.md lacks %s (from its package clause on)", p)
		}
	}
}

// goBlocks returns the contents of the ```go fences of md.
func goBlocks(md string) []string {
	var blocks []string
	for {
		i := strings.Index(md, "```go\n")
		if i < 0 {
			return blocks
		}
		md = md[i+len("```go\n"):]
		j := strings.Index(md, "\n```")
		if j < 0 {
			return blocks
		}
		blocks = append(blocks, md[:j])
		md = md[j:]
	}
}
