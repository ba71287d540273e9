package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// record reports the outcome of one decision: ok when err is nil, else
// the event the error stands for (a locked account, a reused device
// token, a token under another TagKey, a failing store) or failed, with the error's stable code as the
// reason. attrs whose value is empty are left out.
func (a *Authenticator) record(ctx context.Context, ok, failed audit.Event, op string, err error, attrs ...slog.Attr) {
	if a.rec == nil {
		return
	}
	kept := attrs[:0:0]
	for _, at := range attrs {
		if at.Value.Kind() != slog.KindString || at.Value.String() != "" {
			kept = append(kept, at)
		}
	}
	var locked *LockedError
	var reused *ReusedError
	switch {
	case err == nil:
		a.rec.Record(ctx, ok, kept...)
		return
	case errors.Is(err, limit.ErrLimited):
		return // the limiter recorded request.rate_limited
	case errors.Is(err, store.ErrUnavailable):
		a.rec.Record(ctx, audit.StoreUnavailable, append(kept, slog.String(audit.KeyOp, op))...)
		return
	case errors.Is(err, tokens.ErrTagMismatch):
		a.rec.Record(ctx, audit.TokenTagMismatch, append(kept, slog.String(audit.KeyOp, op))...)
		return
	case errors.As(err, &locked):
		a.rec.Record(ctx, audit.LoginLocked, append(kept, slog.Time("until", locked.Until))...)
		return
	case errors.As(err, &reused):
		a.rec.Record(ctx, audit.TokenReused, append(kept,
			slog.String(audit.KeySubject, reused.Subject), slog.String(audit.KeyProject, reused.Project),
			slog.String(audit.KeyDevice, reused.Device))...)
		return
	}
	a.rec.Record(ctx, failed, append(kept, slog.String(audit.KeyReason, problem.Of(err).Code))...)
}

func subjectAttr(s string) slog.Attr { return slog.String(audit.KeySubject, s) }
func projectAttr(p string) slog.Attr { return slog.String(audit.KeyProject, p) }
func deviceAttr(d string) slog.Attr  { return slog.String(audit.KeyDevice, d) }
func clientAttr(c netip.Prefix) slog.Attr {
	if !c.IsValid() {
		return slog.String(audit.KeyClient, "")
	}
	return slog.String(audit.KeyClient, c.String())
}
func kindAttr(k store.Kind) slog.Attr { return slog.String(audit.KeyKind, k.String()) }
func countAttr(n int) slog.Attr       { return slog.Int(audit.KeyCount, n) }
