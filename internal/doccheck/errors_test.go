package doccheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestErrorCodesDocumented: every code the library answers with is in
// docs/errors.md with its status, and every code listed there is still
// raised. The codes are read from the source: each problem.Error composite
// literal in a library package (not the examples, not bench, not tests),
// with its Code a string literal, or an identifier whose string-literal
// assignments in the same function give its values.
func TestErrorCodesDocumented(t *testing.T) {
	root := repoRoot(t)
	inCode := codesInSource(t, root)
	if len(inCode) < 10 {
		t.Fatalf("found only %d codes in the source; the scan is broken: %v", len(inCode), inCode)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "errors.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\| ([0-9]{3}) \\|")
	inDoc := map[string]int{}
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		status, _ := strconv.Atoi(m[2])
		if _, dup := inDoc[m[1]]; dup {
			t.Errorf("docs/errors.md lists %s twice", m[1])
		}
		inDoc[m[1]] = status
	}
	for code, statuses := range inCode {
		want, ok := inDoc[code]
		if !ok {
			t.Errorf("code %q (status %v, at %s) is not in docs/errors.md", code, statuses.status, statuses.where)
			continue
		}
		if statuses.status != want {
			t.Errorf("code %q is %d in the code (%s), %d in docs/errors.md", code, statuses.status, statuses.where, want)
		}
	}
	for code := range inDoc {
		if _, ok := inCode[code]; !ok {
			t.Errorf("docs/errors.md lists %q, which no library code raises", code)
		}
	}
}

type codeUse struct {
	status int
	where  string
}

// codesInSource maps each code to its status and one place that raises it.
func codesInSource(t *testing.T, root string) map[string]codeUse {
	t.Helper()
	statusOf := map[string]int{}
	for s := 100; s < 600; s++ {
		if text := http.StatusText(s); text != "" {
			statusOf["Status"+strings.NewReplacer(" ", "", "-", "").Replace(text)] = s
		}
	}
	found := map[string]codeUse{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch {
			case rel == "examples", rel == "bench", rel == "internal/doccheck",
				d.Name() == "testdata", strings.HasPrefix(d.Name(), "."):
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			// values of identifiers assigned string literals, per declaration
			assigned := map[string][]string{}
			ast.Inspect(decl, func(n ast.Node) bool {
				if as, ok := n.(*ast.AssignStmt); ok {
					for i, lhs := range as.Lhs {
						id, ok1 := lhs.(*ast.Ident)
						if i < len(as.Rhs) && ok1 {
							if s, ok := stringLit(as.Rhs[i]); ok {
								assigned[id.Name] = append(assigned[id.Name], s)
							}
						}
					}
				}
				return true
			})
			ast.Inspect(decl, func(n ast.Node) bool {
				lit, ok := n.(*ast.CompositeLit)
				if !ok || !isProblemError(lit.Type, f.Name.Name) {
					return true
				}
				var codes []string
				status, where := 0, fset.Position(lit.Pos()).String()
				where = strings.TrimPrefix(where, root+string(filepath.Separator))
				for _, el := range lit.Elts {
					kv, ok := el.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					switch key := kv.Key.(*ast.Ident); key.Name {
					case "Code":
						if s, ok := stringLit(kv.Value); ok {
							codes = append(codes, s)
						} else if id, ok := kv.Value.(*ast.Ident); ok {
							codes = append(codes, assigned[id.Name]...)
						}
						if len(codes) == 0 {
							t.Errorf("%s: a problem.Error whose Code the test cannot read", where)
						}
					case "Status":
						if sel, ok := kv.Value.(*ast.SelectorExpr); ok {
							status = statusOf[sel.Sel.Name]
						}
						if status == 0 {
							t.Errorf("%s: a problem.Error whose Status is not an http.StatusXxx constant", where)
						}
					}
				}
				for _, c := range codes {
					if prev, ok := found[c]; ok && prev.status != status {
						t.Errorf("code %q is %d at %s and %d at %s", c, prev.status, prev.where, status, where)
					}
					found[c] = codeUse{status, where}
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(found))
	for k := range found {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	t.Logf("codes in the source: %v", keys)
	return found
}

// isProblemError reports whether a composite literal's type is
// problem.Error (or Error inside package problem).
func isProblemError(typ ast.Expr, pkg string) bool {
	switch x := typ.(type) {
	case *ast.SelectorExpr:
		id, ok := x.X.(*ast.Ident)
		return ok && id.Name == "problem" && x.Sel.Name == "Error"
	case *ast.Ident:
		return pkg == "problem" && x.Name == "Error"
	}
	return false
}

func stringLit(e ast.Expr) (string, bool) {
	bl, ok := e.(*ast.BasicLit)
	if !ok || bl.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(bl.Value)
	return s, err == nil
}
