package exfuzz

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRequest(t *testing.T) {
	r, ok := Request("POST", "/x?a=1", "Content-Type: text/plain\r\nContent-Length: 99\n\nX-A: b", "hello")
	if !ok {
		t.Fatal("refused a good request")
	}
	b, _ := io.ReadAll(r.Body)
	if r.Method != "POST" || r.URL.Query().Get("a") != "1" || r.Header.Get("X-A") != "b" || r.Header.Get("Content-Length") != "" ||
		string(b) != "hello" || r.ContentLength != 5 || r.RemoteAddr == "" {
		t.Errorf("got %s %s %v %q %d", r.Method, r.URL, r.Header, b, r.ContentLength)
	}
	if _, ok := Request("GET", "/a b", "", ""); ok {
		t.Error("built a request net/http refuses")
	}
}

func TestServe(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, `{"Code":"`+r.URL.Query().Get("c")+`"}`)
	})
	expand := strings.NewReplacer("$C", "busy").Replace
	x, ok := Serve(t, h, Routes("GET /a"), expand, "GET", "/a?c=$C", "", "")
	if !ok || x.Pattern != "GET /a" || x.W.Code != http.StatusTeapot || x.ErrorCode() != "busy" || !Codes()[x.ErrorCode()] ||
		x.ServerError() || x.MuxRedirect() {
		t.Fatalf("%+v", x)
	}
	if !Codes("mine")["mine"] || Codes()["mine"] {
		t.Error("Codes: the extra codes are wrong")
	}
}

func TestHasher(t *testing.T) {
	var h Hasher
	hash, _ := h.Hash([]byte("pw"))
	if h.Compare(hash, []byte("pw")) != nil || h.Compare(hash, []byte("px")) == nil || h.NeedsRehash(hash) {
		t.Error("Hasher is wrong")
	}
}

func TestWatch(t *testing.T) {
	fired := make(chan string, 1)
	done := watch(time.Millisecond, func(msg string) { fired <- msg }, []string{"GET", "/slow"})
	select {
	case msg := <-fired:
		if !strings.Contains(msg, `"/slow"`) || !strings.Contains(msg, "TestWatch") {
			t.Errorf("the report lacks the input or the stacks: %.300s", msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an input over the limit was not reported")
	}
	done()
	done = watch(time.Hour, func(string) { t.Error("fired after done") }, nil)
	done()
}
