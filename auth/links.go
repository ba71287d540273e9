package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// Memberships is implemented by apps whose users join projects. When
// Config.Memberships is set, issuing a login link for a project first makes
// the subject a member, so the app can register users on their first login
// to a project.
type Memberships interface {
	// Join makes subject a member of project and reports whether it was
	// not one before.
	Join(ctx context.Context, subject, project string) (joined bool, err error)
}

// LoginLink is a one-time login token for one project.
type LoginLink struct {
	Token     string
	ExpiresAt time.Time
	// Joined reports that the subject was not a member of the project
	// before this link (see Memberships).
	Joined bool
}

// IssueLoginLink issues a one-time login token that logs subject in to
// project: a server that has authenticated the user by other means hands it
// to the user's browser. It lasts tokens.Config.LoginTTL (5 minutes by
// default) and is spent by its first redemption.
func (a *Authenticator) IssueLoginLink(ctx context.Context, subject, project string) (link LoginLink, err error) {
	defer func() {
		a.record(ctx, audit.TokenIssued, audit.TokenRejected, "issue", err, kindAttr(store.KindLogin), subjectAttr(subject), projectAttr(project))
	}()
	if subject == "" || project == "" {
		return LoginLink{}, errors.New("auth: a login link needs a subject and a project")
	}
	if a.members != nil {
		joined, err := a.members.Join(ctx, subject, project)
		if err != nil {
			return LoginLink{}, fmt.Errorf("auth: joining the project: %w", err)
		}
		link.Joined = joined
	}
	iss, err := a.tokens.Issue(ctx, store.KindLogin, tokens.Claims{Subject: subject, Project: project})
	if err != nil {
		return LoginLink{}, err
	}
	link.Token, link.ExpiresAt = iss.Token, iss.Record.ExpiresAt
	return link, nil
}

// RedeemLoginLink spends a login token and issues a session for its
// subject in its project. Of concurrent redemptions of one token exactly
// one succeeds; the others, and any later one, get tokens.ErrInvalid.
func (a *Authenticator) RedeemLoginLink(ctx context.Context, token string) (s Session, err error) {
	var rec store.Record
	defer func() {
		a.record(ctx, audit.TokenRedeemed, audit.TokenRejected, "redeem", err, kindAttr(store.KindLogin), subjectAttr(rec.Subject), projectAttr(rec.Project))
	}()
	rec, err = a.tokens.Consume(ctx, store.KindLogin, token)
	if err != nil {
		return Session{}, err
	}
	iss, err := a.tokens.Issue(ctx, store.KindSession, tokens.Claims{Subject: rec.Subject, Project: rec.Project, AuthTime: rec.AuthTime})
	if err != nil {
		return Session{}, err
	}
	return Session{User: User{Subject: rec.Subject}, Token: iss.Token, Project: rec.Project, ExpiresAt: iss.Record.ExpiresAt}, nil
}

// LogoutProject ends the subject's sessions and pending login links in one
// project, leaving its other projects alone, and reports how many tokens it
// ended.
func (a *Authenticator) LogoutProject(ctx context.Context, subject, project string) (ended int, err error) {
	defer func() {
		a.record(ctx, audit.SessionRevoked, audit.SessionRevoked, "logout_project", err, subjectAttr(subject), projectAttr(project), countAttr(ended))
	}()
	if project == "" {
		return 0, errors.New("auth: LogoutProject needs a project")
	}
	n, err := a.tokens.RevokeAll(ctx, subject, store.Filter{Kind: store.KindSession, Project: project})
	if err != nil {
		return n, err
	}
	m, err := a.tokens.RevokeAll(ctx, subject, store.Filter{Kind: store.KindLogin, Project: project})
	return n + m, err
}
