package main

import (
	"flag"
	"time"

	"fhirlink/server"
	"fhirlink/server/admin"
)

var consoleLinkCmd = adminOp("console-link", "console-link (--site ID | --integrator ID) [--ttl 15m] [--base-url URL]",
	`Issues a one-time sign-in link to the web console (the server's /console)
for a site's practice or for an integrator, and prints it (shown once; only
its hash is stored). Opening the link shows a sign-in button; the link works
once, until --ttl. With --base-url (the server's public URL) the whole link
is printed, otherwise its path on the server.`,
	func(fs *flag.FlagSet) func(*cmdContext) (any, error) {
		r := &admin.ConsoleLinkRequest{}
		fs.StringVar(&r.SiteID, "site", "", "the site id: a link for the practice")
		fs.StringVar(&r.IntegratorID, "integrator", "", "the integrator id: a link for the integrator")
		ttl := fs.Duration("ttl", server.DefaultConsoleLinkTTL, "how long the link stays valid (1m to 24h)")
		fs.StringVar(&r.BaseURL, "base-url", "", "the server's public URL, e.g. https://fhirlink.example")
		return fixed(func() any {
			r.TTL = ttl.Round(time.Second).String()
			return r
		})
	})
