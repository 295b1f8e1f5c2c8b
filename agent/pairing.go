package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"fhirlink/agent/wire"
)

// Consent is the practice's side of pairing, spoken to the server over
// HTTPS with the site credential from the agent's config: it issues
// pairing codes, lists the integrators paired with the site and revokes
// them. HTTP is the client; nil means one that honours HTTPS_PROXY.
type Consent struct {
	ServerURL, SiteID, Secret string
	HTTP                      *http.Client
}

// IssuePairingCode asks the server for a one-time pairing code valid for
// ttl (zero: the server's default, 72 hours).
func (c *Consent) IssuePairingCode(ctx context.Context, ttl time.Duration) (*wire.PairingCodeResponse, error) {
	body, _ := json.Marshal(wire.PairingCodeRequest{TTLSeconds: int64(ttl / time.Second)})
	var out wire.PairingCodeResponse
	if err := c.do(ctx, http.MethodPost, wire.PathPairingCodes, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Pairings lists the integrators paired with the site.
func (c *Consent) Pairings(ctx context.Context) (*wire.PairingsResponse, error) {
	var out wire.PairingsResponse
	if err := c.do(ctx, http.MethodGet, wire.PathPairings, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Revoke revokes an integrator's pairing with the site; its requests stop
// at once.
func (c *Consent) Revoke(ctx context.Context, integratorID string) error {
	return c.do(ctx, http.MethodDelete, wire.PathPairings+"/"+url.PathEscape(integratorID), nil, nil)
}

// SetWriteGrant records on the server the practice's grant (granted) or
// revocation of writes for an integrator; see package grants for the
// agent's own record, which the agent enforces.
func (c *Consent) SetWriteGrant(ctx context.Context, integratorID string, granted bool) error {
	method := http.MethodPut
	if !granted {
		method = http.MethodDelete
	}
	return c.do(ctx, method, wire.PathWriteGrants+"/"+url.PathEscape(integratorID), nil, nil)
}

// do sends one request and decodes a JSON answer into out (when not nil).
// The server's refusals come back as errors carrying its message.
func (c *Consent) do(ctx context.Context, method, path string, body []byte, out any) error {
	u, err := url.Parse(strings.TrimRight(c.ServerURL, "/") + path)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("server URL %q: give the server's base URL, starting with https://", c.ServerURL)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, _ := http.NewRequestWithContext(ctx, method, u.String(), r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(c.SiteID, c.Secret)
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the server (%w); 'fhirlink agent doctor' checks the network", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("the server refused: %s", e.Error.Message)
		}
		return fmt.Errorf("the server answered %s", resp.Status)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("the server's answer is not what was asked for (%s)", resp.Status)
	}
	return nil
}
