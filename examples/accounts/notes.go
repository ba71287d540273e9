package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-go/gatehouse/middleware"
)

// notes is the product: each signed-in user's notes, in memory.
type notes struct {
	mu     sync.Mutex
	bySubj map[string][]note
}

type note struct {
	Text    string    `json:"text"`
	Created time.Time `json:"created"`
}

func newNotes() *notes { return &notes{bySubj: map[string][]note{}} }

// maxNotes and maxNoteBytes keep one user from filling the server's memory.
const (
	maxNotes     = 500
	maxNoteBytes = 2000
)

func (n *notes) list(w http.ResponseWriter, r *http.Request) {
	p, _ := middleware.FromContext(r.Context())
	n.mu.Lock()
	out := append([]note{}, n.bySubj[p.Subject]...)
	n.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"notes": out})
}

func (n *notes) add(w http.ResponseWriter, r *http.Request) {
	p, _ := middleware.FromContext(r.Context())
	var in struct{ Text string }
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || strings.TrimSpace(in.Text) == "" || len(in.Text) > maxNoteBytes {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "invalid_field", "field": "text", "message": "a note is 1 to 2000 bytes of text"})
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.bySubj[p.Subject]) >= maxNotes {
		writeJSON(w, http.StatusConflict, map[string]string{"code": "too_many_notes", "message": "delete some notes first"})
		return
	}
	n.bySubj[p.Subject] = append(n.bySubj[p.Subject], note{Text: in.Text, Created: time.Now().UTC()})
	writeJSON(w, http.StatusCreated, map[string]int{"count": len(n.bySubj[p.Subject])})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
