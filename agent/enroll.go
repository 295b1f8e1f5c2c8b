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

// Enroll exchanges a one-time enrollment code for the site's credential at
// the server. hc is the HTTP client; nil means one that honours HTTPS_PROXY.
// The server's refusals (unknown, used or expired code) come back as errors
// carrying its message.
func Enroll(ctx context.Context, serverURL, code, hostname string, hc *http.Client) (*wire.EnrollResponse, error) {
	u, err := url.Parse(strings.TrimRight(serverURL, "/") + wire.PathEnroll)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("server URL %q: give the server's base URL, starting with https://", serverURL)
	}
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}}
	}
	body, _ := json.Marshal(wire.EnrollRequest{Code: code, Hostname: hostname, Version: Version})
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("enroll: cannot reach the server (%w); 'fhirlink agent doctor --server %s' checks the network", err, serverURL)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
			return nil, fmt.Errorf("enroll refused: %s", e.Error.Message)
		}
		return nil, fmt.Errorf("enroll: the server answered %s", resp.Status)
	}
	var out wire.EnrollResponse
	if err := json.Unmarshal(b, &out); err != nil || out.SiteID == "" || out.Secret == "" {
		return nil, fmt.Errorf("enroll: the server's answer is not an enrollment (%s)", resp.Status)
	}
	return &out, nil
}
