package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the demo practice database

	"fhirlink/agent"
	"fhirlink/agent/executor"
	"fhirlink/agent/grants"
	"fhirlink/agent/wire"
	"fhirlink/mappings/bppremier/bpsynth"
	"fhirlink/mappings/zedmed/zedsynth"
	"fhirlink/server"
	"fhirlink/server/admin"
	"fhirlink/server/api"
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
	// create makes the practice's databases in dir (unless they exist),
	// its appointment book laid out around today, and returns its
	// catalogues, the default first.
	create func(ctx context.Context, dir string, patients int, today time.Time) ([]executor.Catalogue, error)
	// SQL of the printed passthrough examples, in the PMS's own schema.
	patientsSQL, countSQL, deleteSQL string
	// SQL choosing the examples' values: a live patient's id, and the
	// surnames of live patients, the most common first.
	livePatientSQL, surnameSQL string
}

// allowsWrites reports whether the PMS's mapping takes FHIR writes on the
// demo's engine: the demo's agent then allows writes, and the demo prints
// a booking.
func (p *demoPractice) allowsWrites() bool {
	return api.DefaultMappings()[p.pmsType].Writes.On(wire.EngineSQLite)
}

var demoPractices = map[string]*demoPractice{
	wire.PMSBestPractice: {
		pmsType: wire.PMSBestPractice, siteID: "5b1d6a52-7c1e-4d0a-9a57-0d3f3a4c2e01",
		name: "Demo Family Practice", pmsSiteID: "demo-bp-0001", timeZone: bpsynth.Small().TimeZone(),
		create: func(ctx context.Context, dir string, patients int, today time.Time) ([]executor.Catalogue, error) {
			path := filepath.Join(dir, "practice.db")
			return []executor.Catalogue{{Name: "BPSPatients", DSN: path, IsDefault: true}}, makePractice(ctx, path, patients, today)
		},
		patientsSQL:    "SELECT InternalID, RTRIM(Firstname) AS Firstname, RTRIM(Surname) AS Surname, DOB FROM BPS_Patients WHERE Surname LIKE @s ORDER BY InternalID",
		countSQL:       "SELECT count(*) FROM PATIENTS",
		deleteSQL:      "DELETE FROM PATIENTS",
		livePatientSQL: `SELECT MIN(INTERNALID) FROM PATIENTS WHERE RECORDSTATUS = 1 AND PATIENTSTATUS = 1`,
		surnameSQL: `SELECT RTRIM(SURNAME) AS S FROM PATIENTS WHERE RECORDSTATUS = 1 AND PATIENTSTATUS = 1
			GROUP BY RTRIM(SURNAME) ORDER BY COUNT(*) DESC, S`,
	},
	wire.PMSZedmed: {
		pmsType: wire.PMSZedmed, siteID: "5b1d6a52-7c1e-4d0a-9a57-0d3f3a4c2e02",
		name: "Demo Zedmed Practice", pmsSiteID: "demo-zm-0001", timeZone: zedsynth.Small().TimeZone(),
		create: func(ctx context.Context, dir string, patients int, today time.Time) ([]executor.Catalogue, error) {
			main, bill := filepath.Join(dir, "zedmed.db"), filepath.Join(dir, "zedbill.db")
			cats := []executor.Catalogue{{Name: zedsynth.CatalogueMain, DSN: main, IsDefault: true}, {Name: zedsynth.CatalogueBilling, DSN: bill}}
			if _, err := os.Stat(main); err == nil {
				return cats, nil
			}
			opt := zedsynth.Small()
			opt.Patients, opt.Today = patients, today
			return cats, zedsynth.CreateSQLite(ctx, main, bill, opt)
		},
		patientsSQL:    "SELECT PATIENT_ID, FIRST_NAME, SURNAME, DOB FROM PATIENT WHERE SURNAME LIKE @s AND DELETED = 0 ORDER BY PATIENT_ID",
		countSQL:       "SELECT count(*) FROM PATIENT",
		deleteSQL:      "DELETE FROM PATIENT",
		livePatientSQL: `SELECT MIN(PATIENT_ID) FROM PATIENT WHERE DELETED = 0`,
		surnameSQL: `SELECT SURNAME AS S FROM PATIENT WHERE DELETED = 0
			GROUP BY SURNAME ORDER BY COUNT(*) DESC, S`,
	},
}

var demoCommand = &command{
	name:  "demo",
	usage: "demo [--listen 127.0.0.1:8080] [--pms BestPractice|Zedmed] [--dir DIR] [--today YYYY-MM-DD]",
	summary: `Runs a server, an agent and a synthetic practice database (SQLite; Bp Premier, or
Zedmed with --pms Zedmed) in one process, with every feature on, and prints example
requests that work as printed.`,
	flags: func(fs *flag.FlagSet) func(*cmdContext) error {
		var o demoOptions
		fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address the demo server listens on")
		fs.StringVar(&o.dir, "dir", "", "directory for the demo's databases, results and keys (default: a new temporary directory)")
		fs.IntVar(&o.patients, "patients", bpsynth.Small().Patients, "patients in the synthetic practice")
		fs.StringVar(&o.pms, "pms", wire.PMSBestPractice, "the practice management system to simulate: BestPractice (Bp Premier) or Zedmed")
		fs.StringVar(&o.today, "today", "", "the practice's today, YYYY-MM-DD, around which its appointment book is laid out\n      (default: today in the practice's time zone; a reused --dir keeps the book it has)")
		fs.StringVar(&o.metricsAddr, "metrics-addr", "127.0.0.1:9464", "address of the Prometheus metrics listener (/metrics); empty: none")
		logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
		logFormat := fs.String("log-format", "text", "text or json")
		return func(c *cmdContext) error {
			log, err := logger(c.stderr, *logLevel, *logFormat)
			if err != nil {
				return err
			}
			o.log = log
			d, err := startDemo(c.ctx, o)
			if err != nil {
				return err
			}
			defer d.close()
			printExamples(c.stdout, d)
			return d.wait(c.ctx)
		}
	},
}

// demoOptions are the demo command's flags.
type demoOptions struct {
	listen, dir, pms, today string
	metricsAddr             string
	patients                int
	log                     *slog.Logger
}

// demoRun is a running demo: its server, agent and practice, and the
// examples that work against them.
type demoRun struct {
	base     string
	practice *demoPractice
	examples []demoExample
	// consoleLink is a one-time sign-in link to the web console for the
	// demo practice; stateDB the state store, for making another.
	consoleLink, stateDB string
	closers              []func() // in the order to run them

	serveDone chan struct{} // closed when the server has stopped, with serveErr
	serveErr  error
}

// wait serves until ctx is done or the server fails.
func (d *demoRun) wait(ctx context.Context) error {
	select {
	case <-d.serveDone:
		return d.serveErr
	case <-ctx.Done():
		return nil
	}
}

// close stops the demo, last started first.
func (d *demoRun) close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
}

// startDemo creates the practice (unless o.dir holds it), starts the server
// with every feature on and the agent, and makes the examples. On error
// what was started is stopped again.
func startDemo(ctx context.Context, o demoOptions) (_ *demoRun, err error) {
	p, ok := demoPractices[o.pms]
	if !ok {
		return nil, fmt.Errorf("--pms %q: use BestPractice or Zedmed", o.pms)
	}
	zone, err := time.LoadLocation(p.timeZone)
	if err != nil {
		return nil, err
	}
	today := time.Now().In(zone)
	if o.today != "" {
		if today, err = time.ParseInLocation(time.DateOnly, o.today, zone); err != nil {
			return nil, fmt.Errorf("--today %q: use YYYY-MM-DD", o.today)
		}
	}
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, zone)
	d := &demoRun{practice: p}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	if o.dir == "" {
		if o.dir, err = os.MkdirTemp("", "fhirlink-demo-"); err != nil {
			return nil, err
		}
		dir := o.dir
		d.closers = append(d.closers, func() { os.RemoveAll(dir) })
	}
	catalogues, err := p.create(ctx, o.dir, o.patients, today)
	if err != nil {
		return nil, fmt.Errorf("synthetic practice: %w", err)
	}
	store, err := sqlite.Open(ctx, filepath.Join(o.dir, "state.db"))
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, func() { store.Close() })
	if err := seedDemo(ctx, store, p); err != nil {
		return nil, err
	}
	// Every feature on: the server's own wiring with its defaults (quotas,
	// rate limit, audit pruning, async and registered queries), its state
	// in the demo's directory.
	st := newStack(store, o.log)
	fs := flag.NewFlagSet("demo server", flag.ContinueOnError)
	limits, async := limitFlags(fs), asyncFlags(fs)
	if err := fs.Parse([]string{"--results-dir", filepath.Join(o.dir, "results")}); err != nil {
		return nil, err
	}
	stopLimits, err := limits(ctx, st, store)
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, stopLimits)
	stopAsync, err := async(st)
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, stopAsync) // before stopLimits: the workers write audit records

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return nil, err
	}
	d.base = "http://" + ln.Addr().String()
	var metricsURL string
	if o.metricsAddr != "" {
		mln, err := net.Listen("tcp", o.metricsAddr)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("--metrics-addr: %w", err)
		}
		metricsURL = "http://" + mln.Addr().String() + metricsPath
		d.closers = append(d.closers, serveMetrics(st, mln))
	}
	tokenScript, err := seedSMART(ctx, store, o.dir, d.base+"/oauth/token")
	if err != nil {
		ln.Close()
		return nil, err
	}
	serveCtx, stopServing := context.WithCancel(context.Background())
	d.serveDone = make(chan struct{})
	go func() {
		d.serveErr = serve(serveCtx, st, ln, "", "")
		close(d.serveDone)
	}()
	d.closers = append(d.closers, func() {
		stopServing()
		<-d.serveDone
	})

	adminBase, adminToken, err := serveDemoAdmin(d, st, o.dir)
	if err != nil {
		return nil, err
	}

	// The practice's own record of the grant, which the agent enforces.
	writeGrants := filepath.Join(o.dir, "write-grants.json")
	if p.allowsWrites() {
		if err := grants.Open(writeGrants).Grant(demoIntegratorID); err != nil {
			return nil, err
		}
	}
	agentCtx, stopAgent := context.WithCancel(context.Background())
	a, err := agent.New(agentCtx, agent.Config{
		ServerURL: d.base, SiteID: p.siteID, Secret: demoSiteSecret,
		Database: executor.Config{Engine: wire.EngineSQLite, Catalogues: catalogues, AllowWrites: p.allowsWrites()},
		PMSType:  p.pmsType, PracticeName: p.name,
		PracticeManagementSiteID: p.pmsSiteID, TimeZone: p.timeZone, Logger: o.log, WriteGrants: writeGrants,
		// The demo practice manages its write grants in the console too.
		ConsoleGrants: p.allowsWrites(),
	})
	if err != nil {
		stopAgent()
		return nil, err
	}
	d.closers = append(d.closers, func() { stopAgent(); a.Close() })
	go a.Run(agentCtx)
	if err := waitOnline(ctx, st.hub, p.siteID); err != nil {
		return nil, err
	}
	ex, err := p.exampleValues(ctx, catalogues[0].DSN, d.base, today)
	if err != nil {
		return nil, err
	}
	ex.tokenScript, ex.metricsURL, ex.adminBase, ex.adminToken = tokenScript, metricsURL, adminBase, adminToken
	d.examples = demoExamples(d.base, p, ex)
	d.stateDB = filepath.Join(o.dir, "state.db")
	link, err := (&admin.Service{Store: store}).ConsoleLink(ctx, admin.ConsoleLinkRequest{SiteID: p.siteID, TTL: "1h", BaseURL: d.base})
	if err != nil {
		return nil, err
	}
	d.consoleLink = link.URL
	return d, nil
}

// serveDemoAdmin serves the admin API on a loopback port of its own, for
// an operator "demo" whose operators file is in dir, and returns its base
// URL and the operator's token.
func serveDemoAdmin(d *demoRun, st *stack, dir string) (base, token string, err error) {
	operators := filepath.Join(dir, "operators")
	if token, err = admin.AddOperator(operators, "demo"); err != nil {
		return "", "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", err
	}
	srv := &http.Server{Handler: st.api.AdminHandler(&admin.Operators{File: operators}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	d.closers = append(d.closers, func() { srv.Close() })
	return "http://" + ln.Addr().String(), token, nil
}

// makePractice creates the synthetic practice database unless it exists.
func makePractice(ctx context.Context, path string, patients int, today time.Time) error {
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
	opt.Patients, opt.Today = patients, today
	return bpsynth.Generate(ctx, db, bpsynth.EngineSQLite, opt)
}

// seedDemo creates the demo site, integrator, keys and pairing, and where
// the demo practice allows writes the server's copy of its write grant to
// the integrator (again on a reused --dir: conflicts are fine).
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
	if err := st.Pair(ctx, demoIntegratorID, p.siteID); err != nil {
		return err
	}
	if !p.allowsWrites() {
		return nil
	}
	return ok(st.GrantWrites(ctx, demoIntegratorID, p.siteID))
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

// queryPractice returns the first value query gives on the practice
// database at path that accept takes, for the examples.
func queryPractice(ctx context.Context, path, query string, accept func(string) bool) (string, error) {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return "", err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return "", err
		}
		if accept(v) {
			return v, nil
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("the practice database has no value for the examples from %s", query)
}
