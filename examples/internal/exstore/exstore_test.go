package exstore

import (
	"os"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/store/redis"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

func TestOpen(t *testing.T) {
	st, done, _, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.(*memory.Store); !ok {
		t.Errorf("no -redis gave %T, want the memory store", st)
	}
	done()
	if _, _, _, err := Open("redis://127.0.0.1:1"); err == nil {
		t.Error("a Redis that is not there opened")
	}
	if _, _, _, err := Open("bogus://x"); err == nil {
		t.Error("a bad -redis value opened")
	}
	for _, spec := range []string{
		"redis://" + redistest.SharedStandalone(t).Addr,
		strings.Join(redistest.SharedCluster(t).Addrs, ","),
	} {
		st, done, what, err := Open(spec)
		if err != nil {
			t.Fatalf("Open(%q): %v", spec, err)
		}
		if _, ok := st.(*redis.Store); !ok || !strings.Contains(what, spec) {
			t.Errorf("Open(%q) = %T %q", spec, st, what)
		}
		done()
	}
}
