package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/store"
)

// Deactivate ends every live token of subject and reports how many it
// ended: sessions in every project, one-time login links, device
// re-authentication chains, and pending email confirmation and password
// reset tokens. It is one store call, atomic on every store.
//
// The app owns its users, so it is the app that marks the account
// inactive (User.Active false): do that first, then call Deactivate. New
// logins are then refused with ErrInactive, and what the user held before
// stops working at its next request. Activating needs nothing from
// gatehouse: set Active again and the user logs in as before.
//
// A login that had already checked the password when the flag flipped can
// still finish after Deactivate and hold a session: guards read the token,
// not the user. Where that window matters, check Active in the handler too.
//
// A store failure is returned wrapping store.ErrUnavailable; the account
// is then still inactive, and calling Deactivate again is safe.
func (a *Authenticator) Deactivate(ctx context.Context, subject string) (ended int, err error) {
	defer func() {
		a.record(ctx, audit.SessionRevoked, audit.SessionRevoked, "deactivate", err, subjectAttr(subject), countAttr(ended), slog.String(audit.KeyReason, "deactivated"))
	}()
	if subject == "" {
		return 0, errors.New("auth: Deactivate needs a subject")
	}
	// The zero filter matches every kind: a deactivated user keeps no way
	// back in, not even a reset link mailed before.
	n, err := a.tokens.RevokeAll(ctx, subject, store.Filter{})
	if err != nil {
		return n, fmt.Errorf("auth: deactivating %q: %w", subject, err)
	}
	return n, nil
}
