package proof

import (
	"os"
	"testing"

	"github.com/gatehouse-go/gatehouse/internal/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }
