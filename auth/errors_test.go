package auth_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/problem"
)

func TestLockedProblemRoundsUntilUp(t *testing.T) {
	whole := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct{ until, want time.Time }{
		{whole, whole},
		{whole.Add(time.Nanosecond), whole.Add(time.Second)},
		{whole.Add(999 * time.Millisecond), whole.Add(time.Second)},
	} {
		p := problem.Of(&auth.LockedError{Until: tc.until})
		if p.Status != http.StatusForbidden || p.Code != "locked" || !p.Until.Equal(tc.want) {
			t.Errorf("locked until %v: %d %s until %v, want 403 locked until %v", tc.until, p.Status, p.Code, p.Until, tc.want)
		}
	}
}

func TestFieldErrorProblem(t *testing.T) {
	for _, tc := range []struct{ reason, code string }{{"missing", "missing_field"}, {"too long", "invalid_field"}} {
		p := problem.Of(&auth.FieldError{Field: "login", Reason: tc.reason})
		if p.Status != http.StatusBadRequest || p.Code != tc.code || p.Field != "login" {
			t.Errorf("%s: %+v, want 400 %s on login", tc.reason, p, tc.code)
		}
	}
}
