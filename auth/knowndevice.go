package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strings"
	"time"
)

// A known-device proof says that a client logged in to an account with
// the right password within KnownDeviceTTL (OWASP's "device cookie"
// against online guessing): a client that presents one is not locked out
// by failures from other clients, so an attacker who locks a name from
// many addresses does not lock out its owner's own browsers. Its own
// failures still count against it.
//
// A proof is "kd1." and the base64url of its expiry (8 bytes, Unix
// seconds) and 16 bytes of HMAC-SHA256 over the expiry, the SHA-256 of
// the account's password hash and the subject, under a key derived from
// tokens.Config.TagKey: every instance that shares the TagKey accepts it,
// and it carries nothing but an expiry. It is bound to the account, so one
// taken from another account's login proves nothing here, and to its
// password: a password change or reset ends every proof of the account
// (a rehash on login too, which issues a fresh one). It is not a
// credential: it never logs anyone in, and a client showing one is
// counted as a client of its own (by the proof), so a copied proof buys
// no more guesses from many addresses than from one. Logging out, even
// everywhere, leaves proofs alone: change the password to end them.
const (
	// KnownDeviceTTL is how long a proof lasts from the login that made
	// it; each successful login makes a new one.
	KnownDeviceTTL = 30 * 24 * time.Hour
	// KnownDeviceCookie is the default name of the cookie the login
	// handlers keep a proof in (see HandlerOptions.KnownDeviceCookie).
	KnownDeviceCookie = "__Host-gatehouse-device"

	knownDevicePrefix = "kd1."
	knownDeviceMAC    = 16
)

var knownDeviceEncoding = base64.RawURLEncoding

// knownDeviceProof returns a proof for the subject whose password hash is
// hash, valid from now for KnownDeviceTTL.
func (a *Authenticator) knownDeviceProof(subject string, hash []byte, now time.Time) string {
	var b [8 + knownDeviceMAC]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.Add(KnownDeviceTTL).Unix()))
	copy(b[8:], a.knownDeviceMAC(b[:8], subject, hash))
	return knownDevicePrefix + knownDeviceEncoding.EncodeToString(b[:])
}

// provesKnownDevice returns the id of proof (its MAC, base64url) when it
// is a live proof for subject with password hash hash, and "" for
// anything else, malformed input included.
func (a *Authenticator) provesKnownDevice(proof, subject string, hash []byte, now time.Time) string {
	body, ok := strings.CutPrefix(proof, knownDevicePrefix)
	if !ok || len(body) != knownDeviceEncoding.EncodedLen(8+knownDeviceMAC) {
		return ""
	}
	var b [8 + knownDeviceMAC]byte
	if n, err := knownDeviceEncoding.Decode(b[:], []byte(body)); err != nil || n != len(b) {
		return ""
	}
	exp := binary.BigEndian.Uint64(b[:8])
	if exp > uint64(now.Add(KnownDeviceTTL).Unix()) || int64(exp) <= now.Unix() {
		return ""
	}
	if !hmac.Equal(b[8:], a.knownDeviceMAC(b[:8], subject, hash)) {
		return ""
	}
	return knownDeviceEncoding.EncodeToString(b[8:])
}

func (a *Authenticator) knownDeviceMAC(exp []byte, subject string, hash []byte) []byte {
	h := sha256.Sum256(hash)
	mac := hmac.New(sha256.New, a.deviceKey)
	mac.Write(exp)
	mac.Write(h[:])
	mac.Write([]byte(subject))
	return mac.Sum(nil)[:knownDeviceMAC]
}

// KnownDeviceFromRequest returns the known-device proof r carries in the
// KnownDeviceCookie cookie, or "": pass it as Credentials.KnownDevice.
// Handlers that log users in themselves (not through LoginHandler) call
// it, and SetKnownDeviceCookie after a login.
func KnownDeviceFromRequest(r *http.Request) string {
	c, err := r.Cookie(KnownDeviceCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// SetKnownDeviceCookie keeps proof (Session.KnownDevice) in the client's
// KnownDeviceCookie cookie for KnownDeviceTTL: Secure, HttpOnly,
// SameSite=Lax, for the whole site, as the __Host- prefix demands
// (browsers keep Secure cookies of http://localhost too). An empty proof
// sets nothing.
func SetKnownDeviceCookie(w http.ResponseWriter, proof string) {
	if proof == "" {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: KnownDeviceCookie, Value: proof, Path: "/", MaxAge: int(KnownDeviceTTL / time.Second),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}
