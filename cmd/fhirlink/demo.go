package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the demo practice database

	"fhirlink/agent"
	"fhirlink/agent/executor"
	"fhirlink/agent/wire"
	"fhirlink/mappings/bppremier/bpsynth"
	"fhirlink/mappings/zedmed/zedsynth"
	"fhirlink/server"
	"fhirlink/server/hub"
	"fhirlink/server/sqlite"
)

// The demo's fixed identities, so the README's examples work verbatim. They
// exist only in the demo's own state store.
const (
	demoSiteSecret   = "demo-site-secret"
	demoIntegratorID = "0f6e2c8a-3b5d-4e7f-8a19-6c2d4b7e9f10"
	demoKey          = "demo-integrator-key"
)

// demoPractice is one kind of synthetic practice the demo can run.
type demoPractice struct {
	pmsType, siteID, name, pmsSiteID string
	// timeZone is the synthetic practice's zone, which its state gives
	// (the agent runs in it: PMS times carry no zone).
	timeZone string
	// create makes the practice's databases in dir (unless they exist) and
	// returns its catalogues, the default first.
	create func(ctx context.Context, dir string, patients int) ([]executor.Catalogue, error)
	// SQL of the printed passthrough examples, in the PMS's own schema.
	patientsSQL, countSQL, deleteSQL, livePatientSQL string
}

var demoPractices = map[string]*demoPractice{
	wire.PMSBestPractice: {
		pmsType: wire.PMSBestPractice, siteID: "5b1d6a52-7c1e-4d0a-9a57-0d3f3a4c2e01",
		name: "Demo Family Practice", pmsSiteID: "demo-bp-0001", timeZone: bpsynth.Small().TimeZone(),
		create: func(ctx context.Context, dir string, patients int) ([]executor.Catalogue, error) {
			path := filepath.Join(dir, "practice.db")
			return []executor.Catalogue{{Name: "BPSPatients", DSN: path, IsDefault: true}}, makePractice(ctx, path, patients)
		},
		patientsSQL:    "SELECT InternalID, RTRIM(Firstname) AS Firstname, RTRIM(Surname) AS Surname, DOB FROM BPS_Patients WHERE Surname LIKE @s ORDER BY InternalID",
		countSQL:       "SELECT count(*) FROM PATIENTS",
		deleteSQL:      "DELETE FROM PATIENTS",
		livePatientSQL: `SELECT MIN(INTERNALID) FROM PATIENTS WHERE RECORDSTATUS = 1 AND PATIENTSTATUS = 1`,
	},
	wire.PMSZedmed: {
		pmsType: wire.PMSZedmed, siteID: "5b1d6a52-7c1e-4d0a-9a57-0d3f3a4c2e02",
		name: "Demo Zedmed Practice", pmsSiteID: "demo-zm-0001", timeZone: zedsynth.Small().TimeZone(),
		create: func(ctx context.Context, dir string, patients int) ([]executor.Catalogue, error) {
			main, bill := filepath.Join(dir, "zedmed.db"), filepath.Join(dir, "zedbill.db")
			cats := []executor.Catalogue{{Name: zedsynth.CatalogueMain, DSN: main, IsDefault: true}, {Name: zedsynth.CatalogueBilling, DSN: bill}}
			if _, err := os.Stat(main); err == nil {
				return cats, nil
			}
			opt := zedsynth.Small()
			opt.Patients = patients
			return cats, zedsynth.CreateSQLite(ctx, main, bill, opt)
		},
		patientsSQL:    "SELECT PATIENT_ID, FIRST_NAME, SURNAME, DOB FROM PATIENT WHERE SURNAME LIKE @s AND DELETED = 0 ORDER BY PATIENT_ID",
		countSQL:       "SELECT count(*) FROM PATIENT",
		deleteSQL:      "DELETE FROM PATIENT",
		livePatientSQL: `SELECT MIN(PATIENT_ID) FROM PATIENT WHERE DELETED = 0`,
	},
}

var demoCommand = &command{
	name:  "demo",
	usage: "demo [--listen 127.0.0.1:8080] [--dir DIR]",
	summary: `Runs a server, an agent and a synthetic practice database (SQLite; Bp Premier, or
Zedmed with --pms Zedmed) in one process, and prints example requests that work as printed.`,
	flags: func(fs *flag.FlagSet) func(*cmdContext) error {
		listen := fs.String("listen", "127.0.0.1:8080", "address the demo server listens on")
		dir := fs.String("dir", "", "directory for the demo's databases (default: a new temporary directory)")
		patients := fs.Int("patients", bpsynth.Small().Patients, "patients in the synthetic practice")
		pms := fs.String("pms", wire.PMSBestPractice, "the practice management system to simulate: BestPractice (Bp Premier) or Zedmed")
		logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
		return func(c *cmdContext) error {
			log, err := logger(c.stderr, *logLevel)
			if err != nil {
				return err
			}
			if *dir == "" {
				if *dir, err = os.MkdirTemp("", "fhirlink-demo-"); err != nil {
					return err
				}
				defer os.RemoveAll(*dir)
			}
			p, ok := demoPractices[*pms]
			if !ok {
				return fmt.Errorf("--pms %q: use BestPractice or Zedmed", *pms)
			}
			catalogues, err := p.create(c.ctx, *dir, *patients)
			if err != nil {
				return fmt.Errorf("synthetic practice: %w", err)
			}
			store, err := sqlite.Open(c.ctx, filepath.Join(*dir, "state.db"))
			if err != nil {
				return err
			}
			defer store.Close()
			if err := seedDemo(c.ctx, store, p); err != nil {
				return err
			}
			ln, err := net.Listen("tcp", *listen)
			if err != nil {
				return err
			}
			base := "http://" + ln.Addr().String()
			st := newStack(store, log)
			ctx, cancel := context.WithCancel(c.ctx)
			defer cancel()
			served := make(chan error, 1)
			go func() { served <- serve(ctx, st, ln, "", "") }()

			a, err := agent.New(ctx, agent.Config{
				ServerURL: base, SiteID: p.siteID, Secret: demoSiteSecret,
				Database: executor.Config{Engine: wire.EngineSQLite, Catalogues: catalogues},
				PMSType:  p.pmsType, PracticeName: p.name,
				PracticeManagementSiteID: p.pmsSiteID, TimeZone: p.timeZone, Logger: log,
			})
			if err != nil {
				return err
			}
			defer a.Close()
			go a.Run(ctx)
			if err := waitOnline(ctx, st.hub, p.siteID); err != nil {
				return err
			}
			patient, err := livePatient(c.ctx, catalogues[0].DSN, p.livePatientSQL)
			if err != nil {
				return err
			}
			printExamples(c, base, p, patient)
			select {
			case err := <-served:
				return err
			case <-c.ctx.Done():
				cancel()
				return <-served
			}
		}
	},
}

// makePractice creates the synthetic practice database unless it exists.
func makePractice(ctx context.Context, path string, patients int) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := bpsynth.Apply(ctx, db, bpsynth.EngineSQLite); err != nil {
		return err
	}
	opt := bpsynth.Small()
	opt.Patients = patients
	return bpsynth.Generate(ctx, db, bpsynth.EngineSQLite, opt)
}

// seedDemo creates the demo site, integrator, keys and pairing (again on a
// reused --dir: conflicts are fine).
func seedDemo(ctx context.Context, st server.Store, p *demoPractice) error {
	ok := func(err error) error {
		if err != nil && server.ErrorCode(err) != server.ECONFLICT {
			return err
		}
		return nil
	}
	site := &server.Site{ID: p.siteID, Name: p.name, PMSType: p.pmsType, PracticeManagementSiteID: p.pmsSiteID}
	if err := ok(st.CreateSite(ctx, site, server.HashSecret(demoSiteSecret))); err != nil {
		return err
	}
	if err := ok(st.CreateIntegrator(ctx, &server.Integrator{ID: demoIntegratorID, Name: "Demo Integrator"})); err != nil {
		return err
	}
	if err := st.SetIntegratorKey(ctx, demoIntegratorID, server.KeyPrimary, server.HashSecret(demoKey)); err != nil {
		return err
	}
	return st.Pair(ctx, demoIntegratorID, p.siteID)
}

func waitOnline(ctx context.Context, h *hub.Hub, siteID string) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if h.Status(siteID).Availability == hub.Online {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("the demo agent did not connect within 15 s")
}

// livePatient returns the id of a live patient, for the read example.
func livePatient(ctx context.Context, path, query string) (string, error) {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var id string
	err = db.QueryRowContext(ctx, query).Scan(&id)
	return id, err
}

func printExamples(c *cmdContext, base string, p *demoPractice, patient string) {
	site := base + "/integrator/sites/" + p.siteID
	key := "Ocp-Apim-Subscription-Key: " + demoKey
	fhirBase := site + "/fhir/R4"
	fmt.Fprintf(c.stdout, `fhirlink demo is running: server %s, agent connected, synthetic %s practice.

FHIR R4 (AU Core), base %s

Patients whose family name starts with "smi", 5 per page (follow link[next] for more):
  curl -s '%s/Patient?family=smi&_count=5' -H '%s'

One patient:
  curl -s %s/Patient/%s -H '%s'

Practitioner roles with their practitioners:
  curl -s '%s/PractitionerRole?_include=PractitionerRole:practitioner' -H '%s'

What the server supports (CapabilityStatement):
  curl -s %s/metadata -H '%s'

`, base, p.pmsType, fhirBase, fhirBase, key, fhirBase, patient, key, fhirBase, key, fhirBase, key)
	fmt.Fprintf(c.stdout, `SQL passthrough. Site status:
  curl -s %s -H '%s'

Patients named S..., as the passthrough query object (rows base64-encoded in result.data):
  curl -s -X POST %s/queries/immediate -H '%s' -H 'Content-Type: application/json' \
    -d '{"command":{"text":"%s","parameters":[{"name":"@s","type":"VarChar","value":"S%%"}]}}'

The same rows as NDJSON, streamed one JSON object per line:
  curl -s -X POST %s/queries/immediate -H '%s' -H 'Content-Type: application/json' -H 'Accept: application/x-ndjson' \
    -d '{"command":{"text":"%s","parameters":[{"name":"@s","type":"VarChar","value":"S%%"}]}}'

A scalar:
  curl -s -X POST %s/queries/immediate -H '%s' -H 'Content-Type: application/json' \
    -d '{"command":{"text":"%s","executionMode":"scalar"}}'

A write, refused because the practice has not allowed writes:
  curl -s -X POST %s/queries/immediate -H '%s' -H 'Content-Type: application/json' \
    -d '{"command":{"text":"%s","executionMode":"nonQuery"}}'

Press Ctrl-C to stop.
`, site, key, site, key, p.patientsSQL, site, key, p.patientsSQL, site, key, p.countSQL, site, key, p.deleteSQL)
}
