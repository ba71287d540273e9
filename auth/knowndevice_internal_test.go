package auth

import (
	"strings"
	"testing"
	"time"
)

// FuzzKnownDeviceProof: no input panics the proof parser, and it accepts
// nothing but the proof made for the subject.
func FuzzKnownDeviceProof(f *testing.F) {
	a := &Authenticator{deviceKey: []byte("fuzz key of thirty-two bytes....")}
	now := time.Unix(1_800_000_000, 0)
	good := a.knownDeviceProof("341", []byte("hash"), now)
	for _, seed := range []string{good, "", "kd1.", "kd1." + strings.Repeat("A", 32), "kd2." + good[4:], good + "=", "kd1.\x00\xff", strings.ToUpper(good)} {
		f.Add(seed, "341")
	}
	f.Fuzz(func(t *testing.T, proof, subject string) {
		// Nothing but the one proof made for 341 is accepted: a fuzzer
		// cannot forge the MAC, so any other acceptance is a parser bug.
		if a.provesKnownDevice(proof, subject, []byte("hash"), now) != "" && (proof != good || subject != "341") {
			t.Fatalf("accepted %q for %q", proof, subject)
		}
	})
}

func TestKnownDeviceProofLifetime(t *testing.T) {
	a := &Authenticator{deviceKey: []byte("test key of thirty-two bytes....")}
	now := time.Unix(1_800_000_000, 0)
	p := a.knownDeviceProof("341", []byte("hash"), now)
	if a.provesKnownDevice(p, "341", []byte("a new hash"), now) != "" {
		t.Error("a proof made before a password change proves a known device after it")
	}
	for _, tc := range []struct {
		subject string
		at      time.Time
		want    bool
	}{
		{"341", now, true},
		{"341", now.Add(KnownDeviceTTL - time.Second), true},
		{"341", now.Add(KnownDeviceTTL), false},
		{"3410", now, false},
		{"34", now, false},
		// A proof whose expiry is further off than a fresh one could be
		// was not made by this clock.
		{"341", now.Add(-time.Hour), false},
	} {
		if got := a.provesKnownDevice(p, tc.subject, []byte("hash"), tc.at) != ""; got != tc.want {
			t.Errorf("proof for 341 checked for %q at %v: %v, want %v", tc.subject, tc.at.Sub(now), got, tc.want)
		}
	}
}
