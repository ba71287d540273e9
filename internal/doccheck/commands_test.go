package doccheck

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// A codeBlock is one fenced block of a Markdown file.
type codeBlock struct {
	file string // relative to the repository root
	line int    // of the opening fence
	lang string
	body []string
}

// docFiles are the Markdown files whose commands must hold: README.md and
// docs/*.md.
func docFiles(t *testing.T, root string) []string {
	t.Helper()
	files := []string{"README.md"}
	more, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range more {
		rel, _ := filepath.Rel(root, f)
		files = append(files, filepath.ToSlash(rel))
	}
	return files
}

// blocks returns the fenced code blocks of a Markdown file.
func blocks(root, file string) ([]codeBlock, error) {
	f, err := os.Open(filepath.Join(root, file))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []codeBlock
	var cur *codeBlock
	fence := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")):
			fence = trimmed[:3]
			lang, _, _ := strings.Cut(strings.TrimSpace(strings.TrimLeft(trimmed, fence[:1])), " ")
			cur = &codeBlock{file: file, line: n, lang: strings.ToLower(lang)}
		case cur != nil && strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]) == "":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.body = append(cur.body, line)
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("%s:%d: code block never closed", file, cur.line)
	}
	return out, sc.Err()
}

// isShell reports whether a block holds commands to type.
func isShell(lang string) bool {
	return lang == "sh" || lang == "bash" || lang == "shell" || lang == "console"
}

// A command is one line (continuations joined) of a shell block.
type command struct {
	file string
	line int
	text string
	env  []string // leading NAME=value words
	args []string
}

func (c command) String() string { return fmt.Sprintf("%s:%d: %s", c.file, c.line, c.text) }

// commands splits a shell block into commands. A command is one program
// and its arguments: no pipes, lists, redirections or substitutions, so
// that the tests can run exactly what the reader types.
func commands(b codeBlock) ([]command, error) {
	var out []command
	for i := 0; i < len(b.body); i++ {
		start := i
		text := strings.TrimSpace(b.body[i])
		for strings.HasSuffix(text, `\`) && i+1 < len(b.body) {
			i++
			text = strings.TrimSuffix(text, `\`) + " " + strings.TrimSpace(b.body[i])
		}
		text = strings.TrimPrefix(text, "$ ")
		words, err := splitWords(text)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", b.file, b.line+1+start, err)
		}
		if len(words) == 0 {
			continue
		}
		c := command{file: b.file, line: b.line + 1 + start, text: text}
		for len(words) > 1 && regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`).MatchString(words[0]) {
			c.env, words = append(c.env, words[0]), words[1:]
		}
		c.args = words
		out = append(out, c)
	}
	return out, nil
}

// splitWords splits a command line into words as sh would, for the subset
// the docs use: single and double quotes, backslash escapes, and comments.
// Operators (| & ; < > $( `) are refused.
func splitWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words, inWord = append(words, w.String()), false
				w.Reset()
			}
		case c == '#' && !inWord:
			i = len(s)
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unclosed single quote")
			}
			w.WriteString(s[i+1 : i+1+j])
			i += 1 + j
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`"\$`+"`", s[i+1]) >= 0 {
					i++
				} else if s[i] == '$' || s[i] == '`' {
					return nil, fmt.Errorf("%q: no variables or substitutions in a documented command; write the value", s)
				}
				w.WriteByte(s[i])
			}
			if i == len(s) {
				return nil, errors.New("unclosed double quote")
			}
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			w.WriteByte(s[i])
			inWord = true
		case strings.IndexByte("|&;<>$`(){}", c) >= 0:
			return nil, fmt.Errorf("%q: one plain command per line, please (no %q); the docs tests run each line as it is", s, c)
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// kind names how a command is checked; "" is a command the tests do not
// know, which fails.
func kind(args []string) string {
	switch args[0] {
	case "go":
		if len(args) > 1 && slices.Contains([]string{"run", "build", "vet", "doc", "list", "test"}, args[1]) {
			return "go " + args[1]
		}
	case "make", "redis-server", "redis-cli", "curl":
		return args[0]
	}
	return ""
}

// docCommands reads every shell command of the docs, failing the test for
// blocks it cannot read.
func docCommands(t *testing.T, root string) map[string][]command {
	t.Helper()
	out := map[string][]command{}
	for _, file := range docFiles(t, root) {
		bs, err := blocks(root, file)
		if err != nil {
			t.Error(err)
			continue
		}
		for _, b := range bs {
			if !isShell(b.lang) {
				continue
			}
			cs, err := commands(b)
			if err != nil {
				t.Error(err)
				continue
			}
			out[file] = append(out[file], cs...)
		}
	}
	return out
}

// TestDocCommandsKnown fails for any documented command the tests cannot
// check, and checks the ones that need no running: a make target exists, a
// go run names a directory of a program. It runs under -short too.
func TestDocCommandsKnown(t *testing.T) {
	root := repoRoot(t)
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, cs := range docCommands(t, root) {
		for _, c := range cs {
			n++
			switch kind(c.args) {
			case "":
				t.Errorf("%v\n\tinternal/doccheck does not know how to check %q; rewrite the command or teach commands_test.go", c, c.args[0])
			case "make":
				for _, target := range c.args[1:] {
					if strings.HasPrefix(target, "-") || strings.Contains(target, "=") {
						continue
					}
					if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(target) + `\s*:`).Match(makefile) {
						t.Errorf("%v\n\tthe Makefile has no target %q", c, target)
					}
				}
			case "go run":
				if len(c.args) < 3 || !strings.HasPrefix(c.args[2], "./") {
					t.Errorf("%v\n\twant go run ./path/to/program", c)
				} else if _, err := os.Stat(filepath.Join(root, c.args[2], "main.go")); err != nil {
					t.Errorf("%v\n\t%v", c, err)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("found no shell commands in README.md and docs/*.md")
	}
}

// TestDocProgramsBuild builds every go block that is a whole program
// (starts with "package main"), through an overlay: nothing is written into
// the repository.
func TestDocProgramsBuild(t *testing.T) {
	root := repoRoot(t)
	tmp := t.TempDir()
	overlay := map[string]string{}
	var pkgs []string
	where := map[string]string{}
	for _, file := range docFiles(t, root) {
		bs, err := blocks(root, file)
		if err != nil {
			t.Error(err)
			continue
		}
		for _, b := range bs {
			src := strings.Join(b.body, "\n") + "\n"
			if b.lang != "go" || !strings.HasPrefix(strings.TrimSpace(src), "package main") {
				continue
			}
			name := fmt.Sprintf("docprogram%d", len(pkgs)+1)
			real := filepath.Join(tmp, name+".go")
			if err := os.WriteFile(real, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			overlay[filepath.Join(root, "internal", "doccheck", name, "main.go")] = real
			pkgs = append(pkgs, "./internal/doccheck/"+name)
			where["internal/doccheck/"+name] = fmt.Sprintf("%s:%d", b.file, b.line)
		}
	}
	if len(pkgs) == 0 {
		t.Skip("no whole programs in the docs")
	}
	js, _ := json.Marshal(map[string]any{"Replace": overlay})
	ov := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(ov, js, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", append([]string{"build", "-overlay", ov, "-o", filepath.Join(tmp, "bin") + string(filepath.Separator)}, pkgs...)...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := string(out)
		for dir, at := range where {
			msg = strings.ReplaceAll(msg, dir, at+" (as "+dir+")")
		}
		t.Errorf("go blocks that are whole programs do not build: %v\n%s", err, msg)
	}
}

func TestSplitWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{in: `go run ./examples/quickstart`, want: []string{"go", "run", "./examples/quickstart"}},
		{in: `curl -d '{"a":"b c"}' -H "X: y" # a comment`, want: []string{"curl", "-d", `{"a":"b c"}`, "-H", "X: y"}},
		{in: `redis-server --save '' --port 7000`, want: []string{"redis-server", "--save", "", "--port", "7000"}},
		{in: `a\ b "q\"uote"`, want: []string{"a b", `q"uote`}},
		{in: `redis-server &`, err: true},
		{in: `cd bench && go test`, err: true},
		{in: `curl "$URL"`, err: true},
		{in: `echo 'open`, err: true},
	} {
		got, err := splitWords(tc.in)
		if (err != nil) != tc.err || !tc.err && !slices.Equal(got, tc.want) {
			t.Errorf("splitWords(%q) = %q, %v; want %q (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}
