package account_test

import (
	"testing"

	"github.com/gatehouse-go/gatehouse/internal/teststores"
)

// TestJourneyJSON walks the account lifecycle over the JSON API on every
// store: signup, confirm, login, session, sessions, change password (the
// other session ends), change email (the old address is told), delete.
func TestJourneyJSON(t *testing.T) {
	for _, st := range teststores.All() {
		t.Run(st.Name, func(t *testing.T) {
			h := newHarness(t, st.Open)
			sub := h.signup(t, "ada@example.com", "ada")
			if u, err := h.users.FindSubject(t.Context(), sub); err != nil || !u.EmailConfirmed {
				t.Fatalf("after confirm: %+v %v", u, err)
			}
			laptop, phone := h.client(t), h.client(t)
			laptop.login("ada@example.com", strongPassword)
			phone.login("ada", strongPassword)
			me := laptop.must(200, "GET", "/session", nil)
			if me["subject"] != sub || me["email"] != "ada@example.com" || me["session_id"] == "" {
				t.Fatalf("session: %v", me)
			}
			list := laptop.must(200, "GET", "/sessions", nil)["sessions"].([]any)
			if len(list) != 2 {
				t.Fatalf("sessions: %v", list)
			}
			current := 0
			for _, s := range list {
				if s.(map[string]any)["current"] == true {
					current++
				}
			}
			if current != 1 {
				t.Fatalf("sessions marked current: %d", current)
			}
			const next = "a brand new passphrase for ada"
			laptop.must(204, "POST", "/password/change", map[string]string{"current_password": strongPassword, "new_password": next})
			phone.must(401, "GET", "/session", nil)
			laptop.must(200, "GET", "/session", nil)
			phone.login("ada", next)

			laptop.must(202, "POST", "/email/change", map[string]string{"email": "ada@new.example", "password": next})
			m := h.mail.Last(t)
			if m.To != "ada@new.example" || m.Token == "" {
				t.Fatalf("change mailed %+v", m)
			}
			laptop.must(200, "POST", "/email/confirm", map[string]string{"token": m.Token})
			if told := h.mail.Last(t); told.To != "ada@example.com" {
				t.Fatalf("old address not told: %+v", told)
			}
			laptop.must(400, "POST", "/email/confirm", map[string]string{"token": m.Token})

			laptop.must(204, "POST", "/delete", map[string]string{"password": next})
			laptop.must(401, "GET", "/session", nil)
			phone.must(401, "GET", "/session", nil)
			if h.users.Len() != 0 {
				t.Fatal("account not deleted")
			}
		})
	}
}

// TestUsernameCannotBeAnAddress: a username holding an '@' would squat on
// the account of that address, since logins find both alike.
func TestUsernameCannotBeAnAddress(t *testing.T) {
	h := newHarness(t, teststores.All()[0].Open)
	c := h.client(t)
	for _, name := range []string{"bob@example.com", " padded", "tab\tname"} {
		got, out := c.do("POST", "/signup", map[string]string{"email": "a@example.com", "password": strongPassword, "username": name})
		if got != 400 || out["code"] != "invalid_field" || out["field"] != "username" {
			t.Errorf("username %q: %d %v", name, got, out)
		}
	}
	if h.users.Len() != 0 {
		t.Fatal("an account was created")
	}
}
