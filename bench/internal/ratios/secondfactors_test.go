package ratios

import (
	"strings"
	"testing"
)

// TestSecondFactors: each second-factor benchmark is held against the
// library it is built on, from the same run's output.
func TestSecondFactors(t *testing.T) {
	out := `BenchmarkTOTPVerify/gatehouse-memory-2   2000   11000 ns/op   2161 B/op   40 allocs/op
BenchmarkTOTPVerify/pquerna-otp-2        2000    1000 ns/op    528 B/op   11 allocs/op
BenchmarkPasskeyAssertion/gatehouse-memory-2  100  90000 ns/op  9000 B/op  100 allocs/op
BenchmarkPasskeyAssertion/go-webauthn-2       100  60000 ns/op  8000 B/op   90 allocs/op
`
	res, err := Parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	res.SecondFactors(&b)
	for _, want := range []string{"| TOTPVerify/gatehouse-memory | 11000 | 11.00 |", "| PasskeyAssertion/gatehouse-memory | 90000 | 1.50 |", "| PasskeyAssertion/go-webauthn | 60000 | 1.00 |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}
