package main

import (
	"flag"

	"fhirlink/server/admin"
)

var webhookCmd = adminOp("webhook", "webhook --integrator ID (--url URL | --delete)",
	`Sets an integrator's webhook URL and prints a new signing secret (shown once;
the integrator checks each delivery's Fhirlink-Signature-256 with it). Setting
the URL again replaces the secret. The server keeps the secret itself, not a
hash, since it signs with it. --delete removes the webhook.`,
	func(fs *flag.FlagSet) func(*cmdContext) (any, error) {
		r := &admin.WebhookRequest{}
		fs.StringVar(&r.IntegratorID, "integrator", "", "the integrator id")
		fs.StringVar(&r.URL, "url", "", "the https URL receiving the POSTs")
		fs.BoolVar(&r.Delete, "delete", false, "remove the integrator's webhook")
		return fixed(func() any { return r })
	})
