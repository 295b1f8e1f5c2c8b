package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"fhirlink/agent/executor"
	"fhirlink/agent/grants"
	"fhirlink/agent/wire"
)

// Verdicts of a doctor check.
const (
	OK   = "OK"
	Warn = "WARN"
	Fail = "FAIL"
)

// Check is the result of one doctor check: what was checked, the verdict,
// what was found and, unless it is OK, what to do.
type Check struct {
	Name    string `json:"name"`
	Verdict string `json:"verdict"`
	Detail  string `json:"detail"`
	Fix     string `json:"fix,omitempty"`
}

// MaxClockDrift is the clock difference with the server past which doctor
// warns: certificate checks and audit times go wrong with a skewed clock.
const MaxClockDrift = 60 * time.Second

// Doctor checks what the agent needs, without connecting the tunnel (which
// would take over the running service's session): the configuration, the
// database (connect, read, write permission when enabled), the server's
// reachability (through HTTPS_PROXY when set), its TLS certificate and the
// clock drift against it. hc is the HTTP client to use; nil means the one
// the tunnel uses, which honours HTTPS_PROXY.
func Doctor(ctx context.Context, cfg Config, hc *http.Client) []Check {
	var out []Check
	out = append(out, checkConfig(cfg))
	out = append(out, checkDatabase(ctx, cfg.Database)...)
	if cfg.Database.AllowWrites {
		out = append(out, checkGrants(cfg.WriteGrants, cfg.ConsoleGrants))
	}
	if cfg.ServerURL != "" {
		out = append(out, checkServer(ctx, cfg.ServerURL, hc)...)
	}
	return out
}

// checkGrants reports the practice's write grants: who may write, or why
// nobody can, and whether the web console may grant them too.
func checkGrants(path string, console bool) Check {
	c := checkGrantList(path)
	if console {
		c.Detail += "; the server's web console may grant writes too (--console-grants)"
	} else {
		c.Detail += "; only 'fhirlink agent grant-writes' grants writes (the web console may only revoke them; --console-grants lets it grant)"
	}
	return c
}

func checkGrantList(path string) Check {
	c := Check{Name: "write grants"}
	list, err := grants.Open(path).List()
	switch {
	case err != nil:
		c.Verdict, c.Detail, c.Fix = Fail, err.Error(), "every write is refused until the file is readable: remove it and grant again with 'fhirlink agent grant-writes --integrator ID'"
	case len(list) == 0:
		c.Verdict, c.Detail, c.Fix = Warn, "writes are allowed but no integrator is granted them, so every write is refused", "grant a paired integrator writes: 'fhirlink agent grant-writes --integrator ID'"
	default:
		c.Verdict, c.Detail = OK, fmt.Sprintf("%d integrator(s) may write: %s", len(list), strings.Join(grantedIDs(list), ", "))
	}
	return c
}

// Failed reports whether any check failed.
func Failed(checks []Check) bool {
	for _, c := range checks {
		if c.Verdict == Fail {
			return true
		}
	}
	return false
}

func checkConfig(cfg Config) Check {
	c := Check{Name: "configuration"}
	switch {
	case cfg.ServerURL == "":
		c.Verdict, c.Detail, c.Fix = Fail, "no server URL", "run 'fhirlink agent enroll --server https://... --code CODE', or set server in the config file"
	case cfg.SiteID == "" || cfg.Secret == "":
		c.Verdict, c.Detail, c.Fix = Fail, "no site credential (site-id and secret)", "enroll this agent: 'fhirlink agent enroll --server "+cfg.ServerURL+" --code CODE' with a code from the operator"
	default:
		c.Verdict, c.Detail = OK, fmt.Sprintf("site %s, server %s, version %s", cfg.SiteID, cfg.ServerURL, Version)
	}
	return c
}

func checkDatabase(ctx context.Context, db executor.Config) []Check {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn := Check{Name: "database connection"}
	ex, err := executor.Open(ctx, db)
	if err != nil {
		conn.Verdict, conn.Detail = Fail, err.Error()
		switch db.Engine {
		case wire.EngineSQLServer:
			conn.Fix = "check that SQL Server (the BPSINSTANCE instance) and the SQL Server Browser service run, and the login and password; for Windows authentication, that the service account has access to the database"
		case wire.EngineFirebird:
			conn.Fix = "check that the Firebird server runs, the database paths (as the Firebird server sees them), and the login"
		default:
			conn.Fix = "check that the database server runs and the catalogue settings (address, database, login) are right"
		}
		return []Check{conn}
	}
	defer ex.Close()
	version, cats, err := ex.Info(ctx)
	if err != nil {
		conn.Verdict, conn.Detail, conn.Fix = Fail, "connected, but the version query failed: "+err.Error(), "check the login's permissions on the database"
		return []Check{conn}
	}
	conn.Verdict, conn.Detail = OK, fmt.Sprintf("%s %s", db.Engine, firstLine(version))

	read := Check{Name: "database read", Verdict: OK}
	var names []string
	for _, c := range cats {
		req := wire.QueryRequest{ID: "doctor", Catalogue: c.Name, Text: probeSQL(db.Engine), Mode: wire.ModeScalar,
			Type: wire.CommandText, Priority: wire.PriorityInteractive, TimeoutMS: 15000}
		if _, err := ex.Run(ctx, req, discard{}); err != nil {
			read.Verdict, read.Fix = Fail, "grant the login read access (db_datareader on Bp Premier) to every catalogue"
			names = append(names, c.Name+": "+err.Error())
			continue
		}
		names = append(names, c.Name)
	}
	read.Detail = "catalogues " + strings.Join(names, "; ")
	out := []Check{conn, read}
	if db.AllowWrites {
		// The write handle was opened and pinged by executor.Open; whether
		// the login may write is only known when a write runs, and doctor
		// never writes to a practice database.
		out = append(out, Check{Name: "database writes", Verdict: OK,
			Detail: "enabled (allow-writes): the write connection opened; integrators granted write access may run nonQuery and stored procedures, as far as the login's permissions allow"})
	}
	return out
}

func probeSQL(engine string) string {
	if engine == wire.EngineFirebird {
		return "SELECT 1 FROM RDB$DATABASE"
	}
	return "SELECT 1"
}

type discard struct{}

func (discard) Header(wire.Header) error { return nil }
func (discard) Row([]byte) error         { return nil }

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(line)
}

func checkServer(ctx context.Context, serverURL string, hc *http.Client) []Check {
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}}
	}
	hc = &http.Client{Transport: hc.Transport, Timeout: 20 * time.Second}
	u, err := url.Parse(strings.TrimRight(serverURL, "/") + wire.PathTime)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return []Check{{Name: "server", Verdict: Fail, Detail: fmt.Sprintf("server URL %q is not an https:// URL", serverURL),
			Fix: "set server to the fhirlink server's base URL, https://..."}}
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	var out []Check

	// The proxy in use, as the tunnel would choose it.
	var proxyURL *url.URL
	if t, ok := hc.Transport.(*http.Transport); ok && t.Proxy != nil {
		proxyURL, _ = t.Proxy(req)
	}
	if proxyURL != nil {
		out = append(out, Check{Name: "proxy", Verdict: OK, Detail: "connecting through " + redact(proxyURL) + " (HTTPS_PROXY)"})
	}

	sent := time.Now()
	resp, err := hc.Do(req)
	rtt := time.Since(sent)
	if err != nil {
		var opErr *net.OpError
		var certErr *tls.CertificateVerificationError
		var unknownCA x509.UnknownAuthorityError
		var hostErr x509.HostnameError
		var invalid x509.CertificateInvalidError
		switch {
		case errors.As(err, &opErr) && opErr.Op == "proxyconnect":
			out = append(out, Check{Name: "proxy", Verdict: Fail, Detail: err.Error(),
				Fix: "check HTTPS_PROXY: the proxy " + redact(proxyURL) + " does not answer"})
		case errors.As(err, &certErr) || errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &invalid):
			out = append(out, Check{Name: "server reachable", Verdict: OK, Detail: "TCP connection to " + u.Host + " established"},
				Check{Name: "TLS", Verdict: Fail, Detail: "certificate verification failed: " + err.Error(),
					Fix: "a proxy that inspects TLS must have its root certificate installed in the system store; otherwise check the server URL and the clock"})
		default:
			fix := "check the server URL, DNS, and that outbound HTTPS (port 443) is allowed by the firewall"
			if proxyURL == nil {
				fix += "; if the practice needs a proxy, set HTTPS_PROXY for the service"
			}
			out = append(out, Check{Name: "server reachable", Verdict: Fail, Detail: err.Error(), Fix: fix})
		}
		return out
	}
	defer resp.Body.Close()
	reach := Check{Name: "server reachable", Verdict: OK, Detail: fmt.Sprintf("%s answered %s in %s", u.Host, resp.Status, rtt.Round(time.Millisecond))}
	if resp.StatusCode >= 500 {
		reach.Verdict, reach.Fix = Warn, "the server is up but failing; contact the fhirlink operator"
	}
	out = append(out, reach)
	out = append(out, checkTLS(u, resp))
	out = append(out, checkClock(resp, sent, rtt))
	return out
}

func checkTLS(u *url.URL, resp *http.Response) Check {
	c := Check{Name: "TLS"}
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
		c.Verdict, c.Detail = Warn, "the server URL is "+u.Scheme+"://, unencrypted"
		c.Fix = "use https:// outside a development machine"
		return c
	}
	cert := resp.TLS.PeerCertificates[0]
	c.Verdict = OK
	c.Detail = fmt.Sprintf("certificate verified: %s, issued by %s, valid until %s", cert.Subject.CommonName, cert.Issuer.CommonName, cert.NotAfter.Format(time.DateOnly))
	if time.Until(cert.NotAfter) < 14*24*time.Hour {
		c.Verdict, c.Fix = Warn, "the server's certificate expires soon; tell the fhirlink operator"
	}
	return c
}

func checkClock(resp *http.Response, sent time.Time, rtt time.Duration) Check {
	c := Check{Name: "clock"}
	var tr wire.TimeResponse
	var server time.Time
	if resp.StatusCode == http.StatusOK && json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&tr) == nil && !tr.Time.IsZero() {
		server = tr.Time
	} else if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		server = d.Add(500 * time.Millisecond) // the header has whole seconds
	} else {
		c.Verdict, c.Detail, c.Fix = Warn, "the server did not tell its time", "upgrade the server, or check the clock by hand"
		return c
	}
	local := sent.Add(rtt / 2)
	drift := server.Sub(local)
	c.Detail = fmt.Sprintf("this machine is %s %s the server", abs(drift).Round(time.Millisecond), map[bool]string{true: "behind", false: "ahead of"}[drift > 0])
	if abs(drift) > MaxClockDrift {
		c.Verdict, c.Fix = Warn, "synchronise the clock: on Windows 'w32tm /resync' (and check the Windows Time service); on Linux enable NTP (timedatectl set-ntp true)"
		return c
	}
	c.Verdict = OK
	return c
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// redact hides a proxy's password.
func redact(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.Redacted()
}
