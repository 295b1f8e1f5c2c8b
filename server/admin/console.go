package admin

import (
	"context"
	"net/url"
	"strings"
	"time"

	"fhirlink/server"
)

// ConsoleLinkRequest asks for a one-time sign-in link to the web console
// for a site's practice (SiteID) or an integrator (IntegratorID), one of
// the two, valid for TTL (a Go duration; default 15m, at most 24h).
// BaseURL, when given, is the server's public URL, to answer the whole
// link as well as its path.
type ConsoleLinkRequest struct {
	SiteID       string `json:"siteId,omitempty"`
	IntegratorID string `json:"integratorId,omitempty"`
	TTL          string `json:"ttl,omitempty"`
	BaseURL      string `json:"baseUrl,omitempty"`
}

// ConsoleLink is a one-time sign-in link, shown once: its path on the
// server's main listener, and the whole URL when a base URL was given.
type ConsoleLink struct {
	Path         string `json:"path"`
	URL          string `json:"url,omitempty"`
	Expires      string `json:"expires"` // RFC 3339
	SiteID       string `json:"siteId,omitempty"`
	IntegratorID string `json:"integratorId,omitempty"`
}

// ConsoleLink issues a one-time sign-in link to the web console; only its
// hash is stored. It works once, until it expires.
func (s *Service) ConsoleLink(ctx context.Context, r ConsoleLinkRequest) (*ConsoleLink, error) {
	role, subject := server.ConsolePractice, r.SiteID
	switch {
	case (r.SiteID == "") == (r.IntegratorID == ""):
		return nil, invalid("give siteId (a practice's link) or integratorId (an integrator's), one of the two")
	case r.IntegratorID != "":
		role, subject = server.ConsoleIntegrator, r.IntegratorID
	}
	var ttl time.Duration
	if r.TTL != "" {
		var err error
		if ttl, err = time.ParseDuration(r.TTL); err != nil {
			return nil, invalid("ttl %q: give a duration such as 15m", r.TTL)
		}
	}
	var base *url.URL
	if r.BaseURL != "" {
		u, err := url.Parse(r.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, invalid("baseUrl %q: give the server's public URL, e.g. https://fhirlink.example", r.BaseURL)
		}
		base = u
	}
	path, expires, err := server.IssueConsoleLink(ctx, s.Store, role, subject, ttl, time.Now())
	if err != nil {
		return nil, err
	}
	out := &ConsoleLink{Path: path, Expires: expires.Format(time.RFC3339), SiteID: r.SiteID, IntegratorID: r.IntegratorID}
	if base != nil {
		out.URL = strings.TrimSuffix(base.String(), "/") + path
	}
	return out, nil
}
