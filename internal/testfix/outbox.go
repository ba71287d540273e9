package testfix

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
)

// Outbox is an auth.Mailer that keeps what it is given, or fails every
// send with Fail when that is set.
type Outbox struct {
	Fail error

	mu   sync.Mutex
	msgs []auth.Message
}

// Send keeps m, or returns Fail.
func (o *Outbox) Send(_ context.Context, m auth.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.Fail != nil {
		return o.Fail
	}
	o.msgs = append(o.msgs, m)
	return nil
}

// Messages returns the messages sent so far, oldest first.
func (o *Outbox) Messages() []auth.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.msgs)
}

// Last returns the newest message, failing t when there is none.
func (o *Outbox) Last(t testing.TB) auth.Message {
	t.Helper()
	msgs := o.Messages()
	if len(msgs) == 0 {
		t.Fatal("no message sent")
	}
	return msgs[len(msgs)-1]
}
