package auth

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// SessionInfo is one live session of a user, as a "where you're logged
// in" page shows it. It carries no token.
type SessionInfo struct {
	// ID is the session's public id (tokens.PublicID): what RevokeSession
	// takes, and what middleware.Principal.SessionID says of the session
	// a request came with.
	ID        string
	Project   string
	Device    string // the device it was issued for, from a device chain; "" for a password login
	IssuedAt  time.Time
	ExpiresAt time.Time
	AuthTime  time.Time // when the user last proved a password on its chain
	// LastSeen is the session's last activity as a guard with an idle
	// timeout records it (middleware.GuardConfig.IdleTimeout), to within
	// its touch interval; IssuedAt when it was never touched.
	LastSeen time.Time
	Current  bool // it is the session named by Sessions' current
}

// Sessions lists the subject's live sessions in every project, newest
// first; the one whose id is current (the caller's own,
// middleware.Principal.SessionID) is marked Current. One store call.
func (a *Authenticator) Sessions(ctx context.Context, subject, current string) ([]SessionInfo, error) {
	if subject == "" {
		return nil, errors.New("auth: Sessions needs a subject")
	}
	items, err := a.tokens.List(ctx, subject, store.Filter{Kind: store.KindSession})
	if err != nil {
		return nil, err
	}
	out := make([]SessionInfo, 0, len(items))
	for _, it := range items {
		id := tokens.PublicID(it.ID)
		r := it.Record
		out = append(out, SessionInfo{ID: id, Project: r.Project, Device: r.Device,
			IssuedAt: r.IssuedAt, ExpiresAt: r.ExpiresAt, AuthTime: r.AuthTime, LastSeen: r.Seen(), Current: id == current})
	}
	slices.SortFunc(out, func(x, y SessionInfo) int { return y.IssuedAt.Compare(x.IssuedAt) })
	return out, nil
}

// RevokeSession ends the subject's session whose public id is id, as
// Logout would: a session from a device chain ends with its chain, so
// the device cannot come back without the password. It reports false
// when the subject has no live session of that id (another subject's is
// never touched): ending one that is gone already is not an error.
func (a *Authenticator) RevokeSession(ctx context.Context, subject, id string) (ended bool, err error) {
	var rec store.Record
	defer func() {
		if ended || err != nil {
			a.record(ctx, audit.SessionRevoked, audit.SessionRevoked, "revoke_session", err, kindAttr(store.KindSession),
				subjectAttr(subject), projectAttr(rec.Project), deviceAttr(rec.Device))
		}
	}()
	if subject == "" {
		return false, errors.New("auth: RevokeSession needs a subject")
	}
	rec, ended, err = a.tokens.RevokePublic(ctx, subject, store.KindSession, id)
	if err != nil || !ended {
		return ended, err
	}
	return ended, a.endChain(ctx, rec)
}

// RevokeOtherSessions ends every live session of the subject but the one
// whose public id is current (the caller's own), each as RevokeSession
// would (a session from a device chain ends with its chain), and reports
// how many it ended. One store call to list, one or two per session.
func (a *Authenticator) RevokeOtherSessions(ctx context.Context, subject, current string) (int, error) {
	list, err := a.Sessions(ctx, subject, current)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range list {
		if s.Current {
			continue
		}
		ended, err := a.RevokeSession(ctx, subject, s.ID)
		if err != nil {
			return n, err
		}
		if ended {
			n++
		}
	}
	return n, nil
}
