package extest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

func TestBuffer(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() { fmt.Fprintf(&b, "%d\n", i); _ = b.String() })
	}
	wg.Wait()
	if n := len(b.String()); n != 20 {
		t.Errorf("%d bytes written, want 20", n)
	}
}

func TestRequestAndDoJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprintf(w, `{"method":%q,"type":%q,"body":%q}`, r.Method, r.Header.Get("Content-Type"), b)
	}))
	defer srv.Close()
	var got map[string]string
	res, raw := DoJSON(t, srv.Client(), Request(t, "POST", srv.URL, "application/json", "{}"), &got)
	if res.StatusCode != 200 || got["method"] != "POST" || got["type"] != "application/json" || got["body"] != "{}" || len(raw) == 0 {
		t.Errorf("%d %v", res.StatusCode, got)
	}
	if r := Request(t, "GET", srv.URL, "", ""); r.Body != nil || r.Header.Get("Content-Type") != "" {
		t.Errorf("an empty request has a body or a type: %v", r.Header)
	}
}
