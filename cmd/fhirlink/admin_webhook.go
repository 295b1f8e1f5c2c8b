package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net/url"

	"fhirlink/server"
)

var webhookCmd = admin("webhook", "webhook --integrator ID (--url URL | --delete)",
	`Sets an integrator's webhook URL and prints a new signing secret (shown once;
the integrator checks each delivery's Fhirlink-Signature-256 with it). Setting
the URL again replaces the secret. The server keeps the secret itself, not a
hash, since it signs with it. --delete removes the webhook.`,
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		integratorID := fs.String("integrator", "", "the integrator id")
		rawURL := fs.String("url", "", "the https URL receiving the POSTs")
		del := fs.Bool("delete", false, "remove the integrator's webhook")
		return func(c *cmdContext, st server.Store) (any, error) {
			if *integratorID == "" {
				return nil, errors.New("--integrator is required")
			}
			if *del {
				if err := st.DeleteWebhook(c.ctx, *integratorID); err != nil {
					return nil, err
				}
				return map[string]string{"integratorId": *integratorID, "webhook": "deleted"}, nil
			}
			u, err := url.Parse(*rawURL)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return nil, fmt.Errorf("--url %q: give an absolute https (or http) URL", *rawURL)
			}
			b := make([]byte, 32)
			rand.Read(b)
			secret := base64.RawURLEncoding.EncodeToString(b)
			if err := st.SetWebhook(c.ctx, &server.Webhook{IntegratorID: *integratorID, URL: u.String(), Secret: []byte(secret)}); err != nil {
				return nil, err
			}
			return map[string]string{"integratorId": *integratorID, "url": u.String(), "secret": secret}, nil
		}
	})
