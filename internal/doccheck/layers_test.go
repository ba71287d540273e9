package doccheck

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// floors is the floor plan of ../shared/DESIGN.md as the code has it: a
// package's non-test code imports only packages on lower floors. Test
// helpers are packages like any other, so a helper that imports upward (and
// makes every test using it compile the floor above) fails here too. A new
// package needs a line here: decide where it stands.
var floors = map[string]int{
	"problem":              0, // imports nothing of ours: every floor declares its errors with it
	"internal/fakeclock":   0,
	"internal/browsertest": 0,
	"internal/redistest":   0,
	"internal/doccheck":    0,
	"internal/proof":       0, // tests only
	"store":                1,
	"clientaddr":           1,
	"password":             1,
	"password/pwned":       2, // the Have I Been Pwned range checker: imports password
	"internal/httpbody":    1,
	"audit":                2,
	"tokens":               2,
	"store/internal":       2,
	"limit":                3,
	"store/memory":         3,
	"store/redis":          3,
	"store/storetest":      3,
	"internal/storefault":  3,
	"internal/teststores":  4,
	"internal/testfix":     4,
	"mfa":                  4, // TOTP, recovery codes: imports store and problem (and later tokens, limit), never auth
	"passkey":              4, // WebAuthn on go-webauthn: imports store, tokens, audit, problem; never auth or mfa
	"oidc":                 4, // OpenID Connect relying party: imports store, tokens, audit, limit, clientaddr, problem; never auth, account or middleware
	"passkey/passkeytest":  1, // a virtual authenticator for tests: imports nothing of ours
	"middleware":           5,
	"auth":                 6,
	"auth/authtest":        7,
	"account":              7,

	// An OpenID Provider on zitadel/oidc for the relying party's tests:
	// imports nothing of ours.
	"internal/oidcprovider": 0,
}

const module = "github.com/gatehouse-go/gatehouse/"

// TestImportsPointDown: no package's non-test code imports one on its own
// floor or above, and nothing but examples imports examples.
func TestImportsPointDown(t *testing.T) {
	root := repoRoot(t)
	for _, pkg := range packages(t, root) {
		dir := filepath.ToSlash(pkg.dir)
		if pkg.testOnly || dir == "." || strings.HasPrefix(dir, "bench") || strings.HasPrefix(dir, "examples") {
			continue
		}
		floor, ok := floorOf(dir)
		if !ok {
			t.Errorf("%s is not on the floor plan: add it to floors in %s", dir, "internal/doccheck/layers_test.go")
			continue
		}
		for _, imp := range nonTestImports(t, filepath.Join(root, pkg.dir)) {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			rel := strings.TrimPrefix(imp, module)
			f, ok := floorOf(rel)
			switch {
			case strings.HasPrefix(rel, "examples"):
				t.Errorf("%s imports %s: only examples import examples", dir, rel)
			case !ok:
				t.Errorf("%s imports %s, which is not on the floor plan", dir, rel)
			case f >= floor:
				t.Errorf("%s (floor %d) imports %s (floor %d): imports point down", dir, floor, rel, f)
			}
		}
	}
}

// floorOf finds the floor of a package, or of the nearest parent listed
// (store/internal/record stands with store/internal).
func floorOf(dir string) (int, bool) {
	for d := dir; d != "." && d != ""; d = filepath.ToSlash(filepath.Dir(d)) {
		if f, ok := floors[d]; ok {
			return f, true
		}
	}
	return 0, false
}

func nonTestImports(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			seen[p] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
