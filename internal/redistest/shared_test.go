package redistest

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestSharedServersAreStartedOnce(t *testing.T) {
	a, b := SharedStandalone(t), SharedStandalone(t)
	if a != b {
		t.Fatal("two shared standalone servers")
	}
	if err := ping(a.Addr); err != nil {
		t.Fatal(err)
	}
	c, d := SharedCluster(t), SharedCluster(t)
	if c != d || len(c.Addrs) != 3 {
		t.Fatalf("shared cluster: %v %v", c.Addrs, d.Addrs)
	}
}
