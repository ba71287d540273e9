package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/examples/internal/extest"
	"github.com/gatehouse-go/gatehouse/store/memory"
)

// outbox keeps the messages the app sends.
type outbox struct {
	mu   sync.Mutex
	msgs []auth.Message
}

func (o *outbox) Send(_ context.Context, m auth.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = append(o.msgs, m)
	return nil
}

func (o *outbox) last(t *testing.T) auth.Message {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.msgs) == 0 {
		t.Fatal("no mail")
	}
	return o.msgs[len(o.msgs)-1]
}

func newTestApp(t *testing.T) (*httptest.Server, *outbox) {
	t.Helper()
	st := memory.New(memory.Options{})
	t.Cleanup(func() { st.Close() })
	mail := &outbox{}
	h, err := newApp(appConfig{store: st, tagKey: extest.TagKey, mailer: mail, bcryptCost: 10})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, mail
}

func call(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return res.StatusCode, out
}

// TestTeamNotes is the newcomer's scenario over the JSON API: sign up,
// confirm from the mail, log in, keep a note, log out everywhere.
func TestTeamNotes(t *testing.T) {
	srv, mail := newTestApp(t)
	api := srv.URL + "/api"
	if code, _ := call(t, "POST", api+"/account/signup", "", `{"email":"ada@example.com","password":"a long passphrase of ada's"}`); code != 202 {
		t.Fatalf("signup: %d", code)
	}
	if code, out := call(t, "POST", api+"/account/login", "", `{"login":"ada@example.com","password":"a long passphrase of ada's"}`); code != 403 || out["code"] != "unconfirmed" {
		t.Fatalf("login before confirming: %d %v", code, out)
	}
	if code, out := call(t, "POST", api+"/account/email/confirm", "", `{"token":"`+mail.last(t).Token+`"}`); code != 200 {
		t.Fatalf("confirm: %d %v", code, out)
	}
	code, out := call(t, "POST", api+"/account/login", "", `{"login":"ada@example.com","password":"a long passphrase of ada's"}`)
	token, _ := out["token"].(string)
	if code != 200 || token == "" {
		t.Fatalf("login: %d %v", code, out)
	}
	if code, _ := call(t, "POST", api+"/notes", token, `{"text":"hello"}`); code != 201 {
		t.Fatalf("add note: %d", code)
	}
	if code, out := call(t, "GET", api+"/notes", token, ""); code != 200 || len(out["notes"].([]any)) != 1 {
		t.Fatalf("list notes: %d %v", code, out)
	}
	if code, _ := call(t, "POST", api+"/account/logout-everywhere", token, ""); code != 204 {
		t.Fatalf("logout everywhere: %d", code)
	}
	if code, _ := call(t, "GET", api+"/notes", token, ""); code != 401 {
		t.Fatalf("notes after logout everywhere: %d", code)
	}
}
