package passkey_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/passkey/passkeytest"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store/memory"
)

// fuzzEnv is one memory env for a whole fuzz run, with u:1 holding a
// passkey.
func fuzzEnv(f *testing.F) (*env, *passkeytest.Key) {
	clock := fakeclock.New(start)
	st := memory.New(memory.Options{Now: clock.Now})
	f.Cleanup(func() { st.Close() })
	e := newEnv(f, st, clock, nil)
	return e, e.register(f, "u:1")
}

// refused fails the fuzz run unless err is a client error with a code:
// whatever the input, the answer is a 4xx, never a 500 or a panic.
func refused(t *testing.T, err error) {
	t.Helper()
	p := problem.Of(err)
	if p.Status < 400 || p.Status >= 500 || p.Code == "" {
		t.Fatalf("answer %d %q for %v", p.Status, p.Code, err)
	}
}

// parts splits a response JSON into the fields the fuzzer mutates: the
// client data with its challenge replaced by $C, and the rest.
func parts(t testing.TB, resp []byte) (clientData, second, sig, handle []byte) {
	var r struct {
		Response map[string]any `json:"response"`
	}
	if err := json.Unmarshal(resp, &r); err != nil {
		t.Fatal(err)
	}
	d := func(k string) []byte {
		s, _ := r.Response[k].(string)
		b, _ := base64.RawURLEncoding.DecodeString(s)
		return b
	}
	cd := d("clientDataJSON")
	var c struct{ Challenge string }
	json.Unmarshal(cd, &c)
	cd = bytes.Replace(cd, []byte(c.Challenge), []byte("$C"), 1)
	if a := d("attestationObject"); len(a) > 0 {
		return cd, a, nil, nil
	}
	return cd, d("authenticatorData"), d("signature"), d("userHandle")
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// FuzzFinishLogin: assertions built from fuzzed client data (with a live
// challenge put in for $C, so the input reaches past the challenge),
// authenticator data, signature, user handle and credential ID never
// panic, are never a 500, and pass only when the authenticator signed
// them.
func FuzzFinishLogin(f *testing.F) {
	e, k := fuzzEnv(f)
	o, err := e.m.BeginLogin(f.Context(), "u:1")
	ok(f, "BeginLogin", err)
	resp, err := e.auth.Login(o, k)
	ok(f, "Login", err)
	cd, ad, sig, h := parts(f, resp)
	f.Add(cd, ad, sig, h, k.ID, true)
	f.Add(cd, ad, sig, h, k.ID, false)
	f.Add([]byte(`{"type":"webauthn.get","challenge":"$C","origin":"https://example.com"}`), ad[:37], []byte{}, []byte("u:1"), k.ID, false)
	f.Add([]byte(`{}`), []byte{}, []byte{}, []byte{}, []byte{1}, true)
	f.Fuzz(func(t *testing.T, clientData, authData, sig, handle, id []byte, discoverable bool) {
		e.clock.Advance(time.Minute) // the challenges left unspent expire
		var o []byte
		if discoverable {
			o, _ = e.m.BeginPasswordless(t.Context())
		} else {
			o, _ = e.m.BeginLogin(t.Context(), "u:1")
		}
		var opts struct{ Challenge string }
		json.Unmarshal(o, &opts)
		clientData = bytes.Replace(clientData, []byte("$C"), []byte(opts.Challenge), 1)
		r := map[string]any{"clientDataJSON": b64(clientData), "authenticatorData": b64(authData), "signature": b64(sig)}
		if len(handle) > 0 {
			r["userHandle"] = b64(handle)
		}
		body, _ := json.Marshal(map[string]any{"id": b64(id), "rawId": b64(id), "type": "public-key", "response": r})
		var err error
		if discoverable {
			_, _, err = e.m.FinishPasswordless(t.Context(), body)
		} else {
			_, err = e.m.FinishLogin(t.Context(), "u:1", body)
		}
		// The signature is over the client data, which now holds a
		// challenge the key never saw: nothing may pass.
		if err == nil {
			t.Fatalf("a forged assertion passed: %s", body)
		}
		refused(t, err)
	})
}

// FuzzFinishRegistration: registrations built from fuzzed client data
// (a live challenge for $C) and attestation objects never panic, are
// never a 500, and store nothing unless they pass.
func FuzzFinishRegistration(f *testing.F) {
	e, _ := fuzzEnv(f)
	o, _ := e.m.BeginRegistration(f.Context(), "u:2", "u2", "")
	resp, _, _ := e.auth.Register(o)
	cd, att, _, _ := parts(f, resp)
	f.Add(cd, att, []byte("AQID"))
	f.Add([]byte(`{"type":"webauthn.create","challenge":"$C","origin":"https://example.com"}`), []byte{0xa0}, []byte("AQID"))
	f.Add([]byte(`{}`), []byte{0xa3, 0x63, 'f', 'm', 't', 0x64, 'n', 'o', 'n', 'e'}, []byte(""))
	f.Fuzz(func(t *testing.T, clientData, attestation, id []byte) {
		e.clock.Advance(time.Minute)
		o, err := e.m.BeginRegistration(t.Context(), "u:2", "u2", "")
		if err != nil {
			t.Skip(err) // at the limit: a run of passes (the seed's)
		}
		var opts struct{ Challenge string }
		json.Unmarshal(o, &opts)
		clientData = bytes.Replace(clientData, []byte("$C"), []byte(opts.Challenge), 1)
		body, _ := json.Marshal(map[string]any{"id": b64(id), "rawId": b64(id), "type": "public-key",
			"response": map[string]any{"clientDataJSON": b64(clientData), "attestationObject": b64(attestation)}})
		c, err := e.m.FinishRegistration(t.Context(), "u:2", body, "")
		if err != nil {
			refused(t, err)
			return
		}
		// Attestation "none" carries no signature: well-formed data with
		// a live challenge registers. Keep the account under its limit.
		if err := e.m.Remove(t.Context(), "u:2", c.ID); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzResponse: whole response bodies, of any shape, to every finish.
func FuzzResponse(f *testing.F) {
	e, k := fuzzEnv(f)
	o, _ := e.m.BeginLogin(f.Context(), "u:1")
	login, _ := e.auth.Login(o, k)
	o, _ = e.m.BeginRegistration(f.Context(), "u:1", "u1", "")
	reg, _, _ := e.auth.Register(o)
	for _, s := range [][]byte{login, reg, []byte(`{"id":"AQ","rawId":"AQ","type":"public-key","response":{}}`), []byte("null"), []byte(`"x"`)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err1 := e.m.FinishLogin(t.Context(), "u:1", body)
		_, _, err2 := e.m.FinishPasswordless(t.Context(), body)
		_, err3 := e.m.FinishRegistration(t.Context(), "u:1", body, "")
		for _, err := range []error{err1, err2, err3} {
			if err != nil {
				refused(t, err)
			}
		}
	})
}
