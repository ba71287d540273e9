package main

import (
	"net"
	"net/http"
	"testing"
)

// from returns a client of the test server whose connections come from
// ip, a loopback address standing for another client.
func (e *env) from(ip string) *http.Client {
	c := *e.srv.Client()
	tr := c.Transport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).DialContext
	c.Transport = tr
	return &c
}

// TestPasswordChangeFromKnownDeviceUnderLock: attackers from two
// addresses lock grace's address; her browser, a known device, still logs
// in and changes her password, which re-checks the current one with the
// known-device cookie (found by the review of issue 14's lockout: without
// it the owner could not change her password while under attack).
func TestPasswordChangeFromKnownDeviceUnderLock(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		b := e.browser()
		if res := e.request(t, b, "POST", "/api/Login", loginBody(grace, b64(gracePassword)), ""); res.status != 200 {
			t.Fatalf("login: %v", res)
		}
		for _, ip := range []string{"127.0.0.2", "127.0.0.3"} {
			for range 4 {
				e.request(t, e.from(ip), "POST", "/api/Login", loginBody(grace, b64("wrong")), "")
			}
		}
		res := e.request(t, b, "POST", "/api/Login", loginBody(grace, b64(gracePassword)), "")
		if res.status != 200 {
			t.Fatalf("known device under lock: %v", res)
		}
		session := res.json["SessionToken"].(string)
		change := e.request(t, b, "POST", "/api/Password", jsonOf(map[string]string{"password": b64(gracePassword), "newpassword": b64("a brand new secret")}), session)
		if change.status != 200 {
			t.Errorf("logged-in owner on her known device changing her password under a lock: %v", change)
		}
	})
}
