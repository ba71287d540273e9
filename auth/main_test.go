package auth_test

import (
	"os"
	"testing"

	"github.com/gatehouse-go/gatehouse/internal/redistest"
)

// TestMain shares one set of Redis servers among the package's tests
// that run on every store (teststores.All).
func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }
