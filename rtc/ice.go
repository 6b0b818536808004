package rtc

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pion/webrtc/v4"
)

// ErrBusy reports that another trickle or restart is being applied to the same session.
var ErrBusy = errors.New("another ICE update is in progress")

// ICE applies trickled candidates and ICE restarts (RFC 9725 §4.3) to one answering
// PeerConnection, one update at a time. It holds no lock across pion calls: a one-slot semaphore
// orders the updates.
type ICE struct {
	pc   *webrtc.PeerConnection
	busy chan struct{}
}

// NewICE returns the ICE updater of pc, whose remote offer and local answer are already set.
func NewICE(pc *webrtc.PeerConnection) *ICE {
	return &ICE{pc: pc, busy: make(chan struct{}, 1)}
}

func (i *ICE) acquire(ctx context.Context) error {
	select {
	case i.busy <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
}

func (i *ICE) release() { <-i.busy }

// RemoteUfrag returns the client's current ICE username fragment ("" before an offer is set).
func (i *ICE) RemoteUfrag() string {
	d := i.pc.RemoteDescription()
	if d == nil {
		return ""
	}
	return firstValue(d.SDP, "a=ice-ufrag:")
}

// AddCandidates adds trickled candidates (values "candidate:..."), with the mid they came with.
// Candidates the server cannot use (mDNS .local names, tcptype active, unknown types) are
// discarded silently, as RFC 9725 §4.3.2 requires; it returns how many were added.
func (i *ICE) AddCandidates(ctx context.Context, mid string, candidates []string) (int, error) {
	if err := i.acquire(ctx); err != nil {
		return 0, err
	}
	defer i.release()
	return i.addCandidates(mid, candidates), nil
}

func (i *ICE) addCandidates(mid string, candidates []string) int {
	added := 0
	for _, c := range candidates {
		if !Usable(c) {
			continue
		}
		init := webrtc.ICECandidateInit{Candidate: c}
		if mid != "" {
			init.SDPMid = &mid
		}
		if err := i.pc.AddICECandidate(init); err == nil {
			added++
		}
	}
	return added
}

// Usable reports whether a candidate line ("candidate:..." or without the prefix) is one the
// server can try: UDP or passive-reachable TCP to a literal address, never an mDNS .local name
// and never "tcptype active" (the client would have to connect to us, which it does itself).
func Usable(candidate string) bool {
	f := strings.Fields(strings.TrimPrefix(candidate, "candidate:"))
	if len(f) < 8 {
		return false
	}
	if strings.HasSuffix(strings.ToLower(f[4]), ".local") {
		return false
	}
	for j := 6; j+1 < len(f); j += 2 {
		if strings.EqualFold(f[j], "tcptype") && strings.EqualFold(f[j+1], "active") {
			return false
		}
	}
	return true
}

// Restart performs an ICE restart (RFC 9725 §4.3.3): the stored remote offer is rewritten with
// the client's new credentials, set again (pion restarts its ICE agent with new local
// credentials and gathers anew), answered, and the server's new credentials and every gathered
// candidate are returned as a trickle-ice-sdpfrag in CRLF. On error before the new offer is
// applied nothing changed; the old ICE session keeps running either way until consent expires.
func (i *ICE) Restart(ctx context.Context, ufrag, pwd, mid string, candidates []string) (string, error) {
	if ufrag == "" || pwd == "" {
		return "", fmt.Errorf("ice restart: %w: new ice-ufrag and ice-pwd are required", ErrBadOffer)
	}
	if err := i.acquire(ctx); err != nil {
		return "", err
	}
	defer i.release()
	remote := i.pc.RemoteDescription()
	if remote == nil {
		return "", fmt.Errorf("ice restart: no remote description")
	}
	offer := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: rewriteICE(remote.SDP, ufrag, pwd)}
	if err := i.pc.SetRemoteDescription(offer); err != nil {
		return "", fmt.Errorf("ice restart: set offer: %w", err)
	}
	i.addCandidates(mid, candidates)
	answer, err := Answer(ctx, i.pc)
	if err != nil {
		return "", fmt.Errorf("ice restart: %w", err)
	}
	return Fragment(answer), nil
}

// rewriteICE replaces the ICE credentials of an SDP everywhere and drops its candidates (the
// restart's candidates are trickled in afterwards).
func rewriteICE(sdp, ufrag, pwd string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.ReplaceAll(sdp, "\r\n", "\n"), "\n") {
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "a=ice-ufrag:"):
			line = "a=ice-ufrag:" + ufrag
		case strings.HasPrefix(line, "a=ice-pwd:"):
			line = "a=ice-pwd:" + pwd
		case strings.HasPrefix(line, "a=candidate:"), line == "a=end-of-candidates":
			continue
		}
		b.WriteString(line)
		b.WriteString("\r\n")
	}
	return b.String()
}

// Fragment extracts from a full answer the trickle-ice-sdpfrag sent after an ICE restart
// (RFC 9725 §4.3.3 example): ice-lite and ice-options as in the answer, the first m= line and its
// mid, the credentials, every candidate of that section and a=end-of-candidates, in CRLF.
func Fragment(answer string) string {
	var session, media, cands []string
	var ufrag, pwd string
	section := 0 // 0: session level, 1: first media section, 2: later sections
	for _, line := range strings.Split(strings.ReplaceAll(answer, "\r\n", "\n"), "\n") {
		if strings.HasPrefix(line, "m=") {
			section++
			if section == 1 {
				media = append(media, line)
			}
			continue
		}
		switch {
		case section > 1:
		case strings.HasPrefix(line, "a=ice-ufrag:"):
			if ufrag == "" {
				ufrag = line
			}
		case strings.HasPrefix(line, "a=ice-pwd:"):
			if pwd == "" {
				pwd = line
			}
		case section == 0 && (line == "a=ice-lite" || strings.HasPrefix(line, "a=ice-options:")):
			session = append(session, line)
		case section == 1 && strings.HasPrefix(line, "a=mid:"):
			media = append(media, line)
		case section == 1 && strings.HasPrefix(line, "a=candidate:"):
			cands = append(cands, line)
		}
	}
	out := append(session, media...)
	out = append(out, ufrag, pwd)
	out = append(out, cands...)
	out = append(out, "a=end-of-candidates")
	var b strings.Builder
	for _, l := range out {
		if l != "" {
			b.WriteString(l)
			b.WriteString("\r\n")
		}
	}
	return b.String()
}

// firstValue returns the value after the first line starting with prefix.
func firstValue(sdp, prefix string) string {
	for _, line := range strings.Split(sdp, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), prefix); ok {
			return v
		}
	}
	return ""
}
