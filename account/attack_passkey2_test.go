package account_test

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
)

// TestAttackDeleteLeavesFactors: deleting an account (POST /delete) ends
// its tokens and deletes the user, but leaves its second factors behind:
// the sealed TOTP secret, the recovery codes and every passkey (public
// key, nickname, sign count) stay in the store under the subject. That is
// personal data the user asked to be erased, and it is live: should the
// app ever give the subject out again (an import, a restore, ids that are
// reused), the old owner's passkey logs straight into the new account,
// passwordless, at assurance level 2, and its TOTP key and recovery codes
// pass its second step.
//
// Expected safe behaviour: deleting the account removes its factors too
// (mfa.Manager.Remove, and each passkey), after the user is deleted.
func TestAttackDeleteLeavesFactors(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newPasskeyHarness(t, st.Open)
		c, sub := h.loggedIn(t, "ada@example.com", "ada")
		key := addPasskey(t, h, c, "Laptop")
		// A passwordless session (level 2) makes recovery codes.
		anon := h.client(t)
		resp, err := h.browser.Login(options(t, anon, "/login/passkey/options", nil), key)
		if err != nil {
			t.Fatal(err)
		}
		r := anon.post("/login/passkey", map[string]any{"response": json.RawMessage(resp)})
		if r.status != 200 {
			t.Fatalf("passwordless: %s", r)
		}
		anon.token = r.json(t)["token"].(string)
		if r := anon.post("/mfa/recovery-codes", map[string]string{"password": strongPassword}); r.status != 200 {
			t.Fatalf("recovery codes: %s", r)
		}

		anon.must(204, "POST", "/delete", map[string]string{"password": strongPassword})

		ctx := context.Background()
		if list, err := h.pk.List(ctx, sub); err != nil || len(list) != 0 {
			t.Errorf("the deleted account's passkeys are still stored: %d (%v)", len(list), err)
		}
		if st, err := h.mfa.Enrolled(ctx, sub); err != nil || st.RecoveryCodes != 0 || st.Passkeys {
			t.Errorf("the deleted account's second factors are still stored: %+v (%v)", st, err)
		}

		// The consequence: the subject given out again opens to the old
		// owner's passkey.
		h.clock.Advance(time.Minute)
		if err := h.users.Add(auth.User{Subject: sub, Email: "someone.else@example.com", Username: "bob", Active: true, EmailConfirmed: true}); err != nil {
			t.Fatal(err)
		}
		old := h.client(t)
		resp, err = h.browser.Login(options(t, old, "/login/passkey/options", nil), key)
		if err != nil {
			t.Fatal(err)
		}
		if r := old.post("/login/passkey", map[string]any{"response": json.RawMessage(resp)}); r.status == 200 {
			t.Errorf("the deleted account's passkey logged into the new account of its subject: %s", r)
		}
	})
}

var regenerateForm = regexp.MustCompile(`(?s)<form[^>]*id="regenerate".*?</form>`)

// TestAttackPasskeyOnlyRegenerateFormHasNoCode: a passkey-only account
// with recovery codes, seen from a session that did not pass a second
// factor (one from before the passkey, or a trusted browser's): the
// security page knows such a session must give a code (NeedsCode: the
// other forms show the code field, and POST /security/recovery-codes
// answers 401 insufficient_user_authentication without one), but the
// passkey-only "Recovery codes" form has no code field. The user can
// never make new codes there, whatever they type: the form cannot be
// completed.
//
// Expected behaviour: the form has the code field whenever NeedsCode, as
// the app's own regenerate form does, and a recovery code in it works.
func TestAttackPasskeyOnlyRegenerateFormHasNoCode(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newPasskeyHarness(t, st.Open)
		srv := pagesServer(t, h, true)
		h.signup(t, "ada@example.com", "ada")
		ada := newPageClient(t, srv) // level 1, from before the passkey
		ada.login("ada@example.com", strongPassword)
		status, opts := ada.postJSON("/security/passkeys/options", map[string]string{"password": strongPassword})
		if status != 200 {
			t.Fatalf("options: %d %s", status, opts)
		}
		resp, key, err := h.browser.Register(opts)
		if err != nil {
			t.Fatal(err)
		}
		if status, body := ada.postJSON("/security/passkeys", map[string]any{"response": json.RawMessage(resp)}); status != 201 {
			t.Fatalf("add: %d %s", status, body)
		}
		// A passwordless session (level 2) makes the recovery codes.
		pl := newPageClient(t, srv)
		status, opts = pl.postJSON("/login/passkey/options", nil)
		if status != 200 {
			t.Fatalf("passwordless options: %d", status)
		}
		if resp, err = h.browser.Login(opts, key); err != nil {
			t.Fatal(err)
		}
		if status, body := pl.postJSON("/login/passkey", map[string]any{"response": json.RawMessage(resp)}); status != 200 {
			t.Fatalf("passwordless: %d %s", status, body)
		}
		p := pl.post("/security/recovery-codes", url.Values{"password": {strongPassword}})
		codes := regexp.MustCompile(`<li><code>([^<]+)</code></li>`).FindAllStringSubmatch(p.body, -1)
		if p.status != 200 || len(codes) == 0 {
			t.Fatalf("recovery codes: %d %s", p.status, p.body)
		}

		p = ada.get("/security")
		form := regenerateForm.FindString(p.body)
		if form == "" {
			t.Fatalf("no regenerate form: %s", p.body)
		}
		if !strings.Contains(form, `name="code"`) {
			t.Errorf("a level-1 session's regenerate form has no code field, and the route needs one: %s", form)
		}
		// What the field would carry works.
		if p := ada.post("/security/recovery-codes", url.Values{"password": {strongPassword}, "code": {codes[0][1]}}); p.status != 200 {
			t.Fatalf("regenerate with a recovery code: %d", p.status)
		}
	})
}

// TestAttackAAL1SessionDeletesAccount: the previous fix made a session
// that never passed the account's second factor give a code of it to add
// or remove a factor; deleting the whole account still takes the
// password alone. An attacker with a phished password and a session from
// before the owner turned on two-step verification (the very case the
// fix is about: the owner enrolled TOTP to lock them out) cannot log in
// again, nor take the factor away, but can destroy the account and with
// it every factor the owner set up.
//
// Expected safe behaviour: with a second factor on the account, deleting
// it from a session below assurance level 2 asks for a code as well
// (401 insufficient_user_authentication, field "code"), as
// removing a factor does.
func TestAttackAAL1SessionDeletesAccount(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newMFAHarness(t, st.Open)
		owner, sub := h.loggedIn(t, "ada@example.com", "ada")
		attacker := h.client(t)
		attacker.login("ada", strongPassword)
		enrolTOTP(t, h, owner)
		if a := assurance(t, attacker); a != 1 {
			t.Fatalf("attacker's session at assurance %v", a)
		}
		r := attacker.post("/delete", map[string]string{"password": strongPassword})
		if r.status == 204 {
			t.Errorf("a password-only session deleted an account with two-step verification: %s", r)
		} else {
			wantCode(t, "delete without a code", r, 401, "insufficient_user_authentication")
		}
		if _, err := h.users.FindSubject(context.Background(), sub); err != nil {
			t.Errorf("the account is gone: %v", err)
		}
	})
}

// TestAttackAAL1DeletePageAsksForCode: the delete page of a session
// below level 2 on an account with TOTP has the code field, and a right
// code deletes the account (the fix of TestAttackAAL1SessionDeletesAccount
// on the pages).
func TestAttackAAL1DeletePageAsksForCode(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newMFAHarness(t, st.Open)
		srv := pagesServer(t, h, true)
		owner, _ := h.loggedIn(t, "ada@example.com", "ada")
		ada := newPageClient(t, srv)
		ada.login("ada@example.com", strongPassword)
		key, _ := enrolTOTP(t, h, owner)
		h.clock.Advance(30 * time.Second)
		p := ada.get("/delete")
		if p.status != 200 || !strings.Contains(p.body, `name="code"`) {
			t.Fatalf("GET /delete of a level-1 session: %d %s", p.status, p.body)
		}
		if p = ada.post("/delete", url.Values{"password": {strongPassword}}); p.status != 401 || !strings.Contains(p.body, `name="code"`) {
			t.Fatalf("delete without a code: %d", p.status)
		}
		if p = ada.post("/delete", url.Values{"password": {strongPassword}, "code": {key.Code(h.clock.Now())}}); p.status != 303 {
			t.Fatalf("delete with a code: %d %s", p.status, p.body)
		}
	})
}

// TestAttackAAL1SessionLocksOwnerOut: the same password-only session
// (phished password, session from before the owner enrolled TOTP to
// lock the attacker out) cannot pass the factor, but it can change the
// account's address (the confirmation goes to the attacker's mailbox)
// and then its password, with the password alone. The password change
// ends every other session of the account, the owner's level-2 ones
// included, and keeps the attacker's: the owner can no longer log in
// (wrong password) nor reset it (the reset mail goes to the attacker),
// while the attacker keeps using the account through the session the
// factor was meant to shut out.
//
// Expected safe behaviour: with a second factor on the account, changing
// its password or address from a session below level 2 asks for a code
// of the factor too (401 insufficient_user_authentication), as removing
// a factor does.
func TestAttackAAL1SessionLocksOwnerOut(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newMFAHarness(t, st.Open)
		owner, _ := h.loggedIn(t, "ada@example.com", "ada")
		attacker := h.client(t)
		attacker.login("ada", strongPassword)
		key, _ := enrolTOTP(t, h, owner)
		// The owner's session that passed the factor (level 2).
		h.clock.Advance(30 * time.Second)
		owner2 := h.client(t)
		pending := firstStep(t, owner2, "ada")
		r := owner2.post("/login/second", map[string]any{"pending": pending, "kind": "totp", "code": key.Code(h.clock.Now())})
		if r.status != 200 {
			t.Fatalf("second step: %s", r)
		}
		owner2.token = r.json(t)["token"].(string)

		r = attacker.post("/email/change", map[string]string{"email": "mallory@evil.example", "password": strongPassword})
		if r.status == 202 {
			t.Errorf("a password-only session changed the address of an account with two-step verification: %s", r)
		}
		r = attacker.post("/password/change", map[string]string{"current_password": strongPassword, "new_password": "mallory owns this one 99"})
		if r.status == 204 {
			t.Errorf("a password-only session changed the password of an account with two-step verification: %s", r)
		}
		if got, _ := owner2.do("GET", "/session", nil); got != 200 {
			t.Errorf("the owner's level-2 session was ended by the attacker's password change: %d", got)
		}
	})
}
