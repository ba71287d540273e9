package doccheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// repoRoot is the directory of the repository's go.mod, two levels above
// this package.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot find the source of the doccheck test")
	}
	root := filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root: %v", err)
	}
	return root
}

// goPackage is one directory's package as the parser sees it.
type goPackage struct {
	dir      string // relative to the repository root
	name     string
	docs     []string // files with a package doc comment
	doc      string   // the first of those comments
	testOnly bool     // only _test.go files
}

// packages parses the package clause and its comment of every Go file in
// the repository, nested modules (bench, examples with their own go.mod)
// included, skipping testdata and directories whose name starts with "."
// or "_", as the go command does.
func packages(t *testing.T, root string) []goPackage {
	t.Helper()
	byDir := map[string]*goPackage{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Errorf("%v", err)
			return nil
		}
		if ignored(f) {
			return nil
		}
		isTest := strings.HasSuffix(name, "_test.go")
		if isTest && strings.HasSuffix(f.Name.Name, "_test") {
			return nil // an external test package documents nothing
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		p := byDir[rel]
		if p == nil {
			p = &goPackage{dir: filepath.ToSlash(rel), name: f.Name.Name, testOnly: true}
			byDir[rel] = p
		}
		if !isTest && p.testOnly {
			// Non-test files decide; drop what test files said.
			p.testOnly, p.docs, p.doc, p.name = false, nil, "", f.Name.Name
		}
		if isTest && !p.testOnly {
			return nil
		}
		if f.Doc != nil {
			p.docs = append(p.docs, name)
			if p.doc == "" {
				p.doc = f.Doc.Text()
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []goPackage
	for _, p := range byDir {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].dir < out[j].dir })
	return out
}

// ignored reports whether the file is excluded from every build by a
// "//go:build ignore" line.
func ignored(f *ast.File) bool {
	for _, g := range f.Comments {
		if g.Pos() > f.Package {
			break
		}
		for _, c := range g.List {
			if strings.HasPrefix(c.Text, "//go:build") && strings.Contains(c.Text, "ignore") {
				return true
			}
		}
	}
	return false
}

// TestPackageDocs fails for every package without a doc comment, for a
// library whose comment does not start "Package <name> ", and for a
// package whose comment is spread over several files (go doc would glue
// them together in no chosen order).
func TestPackageDocs(t *testing.T) {
	pkgs := packages(t, repoRoot(t))
	if len(pkgs) < 10 {
		t.Fatalf("found only %d packages", len(pkgs))
	}
	for _, msg := range docProblems(pkgs) {
		t.Error(msg)
	}
}

// TestPackageDocsCatches checks the checker on a tree with one package of
// each kind of fault.
func TestPackageDocsCatches(t *testing.T) {
	root := t.TempDir()
	for path, text := range map[string]string{
		"good/doc.go":        "// Package good is fine.\npackage good\n",
		"good/good.go":       "package good\n",
		"none/none.go":       "package none\n",
		"twice/a.go":         "// Package twice is here.\npackage twice\n",
		"twice/b.go":         "// Package twice is here too.\npackage twice\n",
		"awkward/doc.go":     "// This package does things.\npackage awkward\n",
		"cmd/tool/main.go":   "// Tool does things.\npackage main\n",
		"testonly/x_test.go": "package testonly\n",
		"testdata/t/t.go":    "package t\n",
	} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, path), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := strings.Join(docProblems(packages(t, root)), "\n")
	for _, want := range []string{"./none: package none has no doc", "./twice: package twice has a doc comment in 2 files",
		"./awkward: the doc comment of package awkward should start", "./testonly: package testonly has no doc"} {
		if !strings.Contains(got, want) {
			t.Errorf("the checker missed %q; it said:\n%s", want, got)
		}
	}
	for _, wrong := range []string{"./good", "./cmd/tool", "testdata"} {
		if strings.Contains(got, wrong) {
			t.Errorf("the checker complained about %s:\n%s", wrong, got)
		}
	}
}

func docProblems(pkgs []goPackage) []string {
	var out []string
	for _, p := range pkgs {
		where := "./" + p.dir
		switch {
		case len(p.docs) == 0:
			out = append(out, fmt.Sprintf("%s: package %s has no doc comment; add a doc.go that starts \"// Package %s ...\" (\"// Command ...\" for a program)", where, p.name, p.name))
		case len(p.docs) > 1:
			out = append(out, fmt.Sprintf("%s: package %s has a doc comment in %d files (%s); keep one, in doc.go", where, p.name, len(p.docs), strings.Join(p.docs, ", ")))
		case p.name != "main" && !strings.HasPrefix(p.doc, "Package "+p.name+" "):
			out = append(out, fmt.Sprintf("%s: the doc comment of package %s should start \"Package %s \", not %q", where, p.name, p.name, firstLine(p.doc)))
		}
	}
	return out
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
