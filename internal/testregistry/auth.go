package testregistry

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
)

// AuthProxy stands in front of a registry and asks for credentials the
// way Docker Hub, quay.io and GitHub's registry do: a request without a
// bearer token is answered 401 with a WWW-Authenticate challenge naming
// the token endpoint, which hands out a token for the right user name and
// password (given as HTTP basic auth) and refuses anyone else.
type AuthProxy struct {
	host       string
	user, pass string
	token      string
	srv        *http.Server
	mu         sync.Mutex
	// Requests counts the requests that came with a valid token.
	requests int
}

// StartAuthProxy serves upstream (a registry's host:port) on a free
// loopback port, admitting only user:pass.
func StartAuthProxy(upstream, user, pass string) (*AuthProxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	var tok [16]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, err
	}
	p := &AuthProxy{host: l.Addr().String(), user: user, pass: pass, token: hex.EncodeToString(tok[:])}
	// The registry builds the URLs of its replies (upload locations) from
	// the request's Host, which the proxy leaves as its own.
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: upstream})
	mux := http.NewServeMux()
	mux.HandleFunc("/token", p.serveToken)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+p.token {
			w.Header().Set("Www-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="testregistry"`, p.host))
			w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		p.mu.Lock()
		p.requests++
		p.mu.Unlock()
		r.Header.Del("Authorization")
		rp.ServeHTTP(w, r)
	})
	p.srv = &http.Server{Handler: mux}
	go p.srv.Serve(l) //nolint:errcheck // ends with Close
	return p, nil
}

// serveToken is the token endpoint: GET with basic auth, or POST of an
// OAuth2 password grant (what containerd tries first).
func (p *AuthProxy) serveToken(w http.ResponseWriter, r *http.Request) {
	u, pw, _ := r.BasicAuth()
	if r.Method == http.MethodPost && r.ParseForm() == nil && r.PostForm.Get("grant_type") == "password" {
		u, pw = r.PostForm.Get("username"), r.PostForm.Get("password")
	}
	if u != p.user || pw != p.pass {
		http.Error(w, `{"details":"incorrect username or password"}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"token": p.token, "access_token": p.token})
}

// Host is the proxy's 127.0.0.1:PORT.
func (p *AuthProxy) Host() string { return p.host }

// Requests is how many requests came with a valid token.
func (p *AuthProxy) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

// Close stops the proxy.
func (p *AuthProxy) Close() error { return p.srv.Close() }
