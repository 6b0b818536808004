package client

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// loopback is a tiny WHIP/WHEP server written with pion for these tests:
//
//	POST   /whip/{name}  answers with a PeerConnection that records what it receives
//	POST   /whep/{name}  answers with a PeerConnection that sends video/audio, looping
//	POST   /moved/{name}  307 to /whip/{name}
//	DELETE /.../{id}      closes session {id} (the last path element); 404 when unknown
//
// Received video is reassembled with pion's samplebuilder, independently of the client's own
// assembler. Each new session is announced on created.
type loopback struct {
	t   *testing.T
	srv *httptest.Server
	api *webrtc.API

	// set before the first request
	video, audio *Source                // what WHEP sessions send
	location     func(id string) string // the Location of a new session

	created chan *peer  // every new session
	deleted chan string // the path of every DELETE that found its session

	mu       sync.Mutex
	sessions map[string]*peer
	auth     []string // Authorization header of every POST
	nextID   int
}

func newLoopback(t *testing.T) *loopback {
	t.Helper()
	l := &loopback{
		t:        t,
		api:      newServerAPI(t),
		location: func(id string) string { return "/session/" + id },
		created:  make(chan *peer, 16),
		deleted:  make(chan string, 16),
		sessions: map[string]*peer{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /whip/{name}", func(w http.ResponseWriter, r *http.Request) { l.post(w, r, false) })
	mux.HandleFunc("POST /whep/{name}", func(w http.ResponseWriter, r *http.Request) { l.post(w, r, true) })
	mux.HandleFunc("POST /moved/{name}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/whip/"+r.PathValue("name"), http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("DELETE /", l.remove)
	l.srv = httptest.NewServer(mux)
	t.Cleanup(l.close)
	return l
}

// newServerAPI is the client's loopback API with short ICE timeouts, so a silent client is
// noticed in about a second, gathering on loopback only: an interface another package's test
// adds and removes meanwhile (cmd/wisp's bandwidth test) must not become the session's path.
func newServerAPI(t *testing.T) *webrtc.API {
	t.Helper()
	api, err := NewAPI(APIOptions{LoopbackOnly: true, Disconnected: time.Second, Failed: 2 * time.Second, KeepAlive: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return api
}

func (l *loopback) url(path string) string { return l.srv.URL + path }

func (l *loopback) post(w http.ResponseWriter, r *http.Request, whep bool) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.Header.Get("Content-Type") != contentTypeSDP {
		http.Error(w, "bad offer", http.StatusUnsupportedMediaType)
		return
	}
	l.mu.Lock()
	l.auth = append(l.auth, r.Header.Get("Authorization"))
	l.nextID++
	id := fmt.Sprintf("s%d", l.nextID)
	l.mu.Unlock()

	p, err := newPeer(l.api, id)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if whep {
		err = p.addSenders(l.video, l.audio)
	}
	if err == nil {
		err = p.answer(string(body))
	}
	if err != nil {
		p.close()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	l.mu.Lock()
	l.sessions[id] = p
	l.mu.Unlock()
	l.created <- p
	w.Header().Set("Content-Type", contentTypeSDP)
	w.Header().Set("Location", l.location(id))
	w.Header().Set("ETag", `"`+id+`"`)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, p.pc.LocalDescription().SDP)
}

func (l *loopback) remove(w http.ResponseWriter, r *http.Request) {
	id := path.Base(r.URL.Path)
	l.mu.Lock()
	p := l.sessions[id]
	delete(l.sessions, id)
	l.mu.Unlock()
	if p == nil {
		http.NotFound(w, r)
		return
	}
	p.close()
	l.deleted <- r.URL.Path
}

func (l *loopback) authHeaders() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.auth...)
}

func (l *loopback) close() {
	l.srv.Close()
	l.mu.Lock()
	sessions := l.sessions
	l.sessions = map[string]*peer{}
	l.mu.Unlock()
	for _, p := range sessions {
		p.close()
	}
}

// session waits for the next session the server creates.
func (l *loopback) session(t *testing.T) *peer {
	t.Helper()
	select {
	case p := <-l.created:
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("no session created")
		return nil
	}
}
