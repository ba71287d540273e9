package redistest

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// Starting a Cluster takes seconds, so a package whose tests all want one
// (an example's end-to-end tests, on every store) shares a single set of
// servers, started on first use and stopped when the package's tests end.
// The package's TestMain must call Main:
//
//	func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }
//
// Tests sharing a server must not step on each other's keys: give each its
// own key prefix.

var shared struct {
	mu         sync.Mutex
	main       bool // Main is running the tests
	life       *packageLife
	standalone *Server
	cluster    *Cluster
}

// Main runs the package's tests and then stops the shared servers.
func Main(m *testing.M) int {
	shared.mu.Lock()
	shared.main = true
	shared.life = &packageLife{}
	shared.mu.Unlock()
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.life.end()
	return code
}

// SharedStandalone returns the package's standalone server, started on the
// first call. Tests must not Kill it: use Standalone for that.
func SharedStandalone(t testing.TB) *Server {
	t.Helper()
	Require(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.standalone == nil {
		start(t, func(tb testing.TB) { shared.standalone = Standalone(tb) })
	}
	return shared.standalone
}

// SharedCluster returns the package's 3-master cluster, started on the
// first call.
func SharedCluster(t testing.TB) *Cluster {
	t.Helper()
	Require(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.cluster == nil {
		start(t, func(tb testing.TB) { shared.cluster = StartCluster(tb) })
	}
	return shared.cluster
}

// start runs f with the package's lifetime in place of t's, turning its
// failures back into failures of t. Called with shared.mu held.
func start(t testing.TB, f func(testing.TB)) {
	t.Helper()
	if !shared.main {
		t.Fatal("redistest: shared servers need TestMain to call redistest.Main")
	}
	var failure any
	func() {
		defer func() { failure = recover() }()
		f(shared.life)
	}()
	if failure != nil {
		if msg, ok := failure.(lifeFailure); ok {
			t.Fatal(string(msg))
		}
		panic(failure)
	}
}

// packageLife stands in for a testing.TB whose end is the end of Main. It
// implements only what this package's starters call; the embedded nil
// interface makes anything else fail loudly.
type packageLife struct {
	testing.TB
	mu       sync.Mutex
	cleanups []func()
}

type lifeFailure string

func (l *packageLife) Helper() {}

func (l *packageLife) Cleanup(f func()) {
	l.mu.Lock()
	l.cleanups = append(l.cleanups, f)
	l.mu.Unlock()
}

func (l *packageLife) TempDir() string {
	dir, err := os.MkdirTemp("", "redistest")
	if err != nil {
		l.Fatalf("redistest: %v", err)
	}
	l.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func (l *packageLife) Fatalf(format string, args ...any) {
	panic(lifeFailure(fmt.Sprintf(format, args...)))
}

func (l *packageLife) Fatal(args ...any) { panic(lifeFailure(fmt.Sprint(args...))) }

func (l *packageLife) Skip(args ...any) { l.Fatal(args...) }

// end runs the cleanups, last registered first, as testing does.
func (l *packageLife) end() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.cleanups) - 1; i >= 0; i-- {
		l.cleanups[i]()
	}
	l.cleanups = nil
}
