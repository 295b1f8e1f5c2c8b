package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"fhirlink/agent"
	"fhirlink/agent/executor"
)

var agentCommand = &command{
	name:  "agent",
	usage: "agent [flags]",
	summary: `Runs the practice agent: dials out to the server, and answers its queries on
the practice database through the guard (queue, deadlines, size caps,
read-only unless --allow-writes).`,
	flags: func(fs *flag.FlagSet) func(*cmdContext) error {
		serverURL := fs.String("server", "", "the fhirlink server's base URL, https://...")
		siteID := fs.String("site-id", "", "this site's id, from 'fhirlink admin site create'")
		secret := fs.String("secret", "", "this site's agent secret (prefer the environment variable or the config file)")
		engine := fs.String("engine", "sqlserver", "database engine: sqlserver, postgres or sqlite")
		var catalogues listFlag
		fs.Var(&catalogues, "catalogue", "a database as NAME=DSN; repeat for several, the first is the default\n      (sqlserver://bpsrawdata:PASSWORD@SERVER/BPSINSTANCE?database=BPSPatients, postgres://..., or a SQLite file path)")
		allowWrites := fs.Bool("allow-writes", false, "let paired integrators run nonQuery and stored procedure commands")
		concurrency := fs.Int("concurrency", 2, "queries run at once on the database")
		pmsType := fs.String("pms-type", "BestPractice", "the practice management system: BestPractice, Zedmed or D4w")
		practiceName := fs.String("practice-name", "", "the practice's name, shown in the site status")
		pmsSiteID := fs.String("pms-site-id", "", "the PMS's own identifier of this practice")
		timeZone := fs.String("time-zone", "Australia/Sydney", "the practice's IANA time zone: PMS times are stored without one")
		logLevel := fs.String("log-level", "info", "debug, info, warn or error")
		return func(c *cmdContext) error {
			log, err := logger(c.stderr, *logLevel)
			if err != nil {
				return err
			}
			if *serverURL == "" || *siteID == "" || *secret == "" {
				return errors.New("--server, --site-id and --secret are required")
			}
			db, err := databaseConfig(*engine, catalogues, *allowWrites)
			if err != nil {
				return err
			}
			a, err := agent.New(c.ctx, agent.Config{
				ServerURL: *serverURL, SiteID: *siteID, Secret: *secret,
				Database: db, Concurrency: *concurrency,
				PMSType: *pmsType, PracticeName: *practiceName, PracticeManagementSiteID: *pmsSiteID, TimeZone: *timeZone,
				Logger: log,
			})
			if err != nil {
				return err
			}
			defer a.Close()
			log.Info("fhirlink agent starting", "version", agent.Version, "server", *serverURL, "engine", *engine)
			return a.Run(c.ctx)
		}
	},
}

// databaseConfig turns NAME=DSN catalogue flags into the executor's config.
func databaseConfig(engine string, catalogues []string, allowWrites bool) (executor.Config, error) {
	cfg := executor.Config{Engine: engine, AllowWrites: allowWrites}
	if len(catalogues) == 0 {
		return cfg, errors.New("at least one --catalogue NAME=DSN is required")
	}
	for i, c := range catalogues {
		name, dsn, ok := strings.Cut(c, "=")
		if !ok || name == "" || dsn == "" {
			return cfg, fmt.Errorf("--catalogue %q: write NAME=DSN", c)
		}
		cfg.Catalogues = append(cfg.Catalogues, executor.Catalogue{Name: name, DSN: dsn, IsDefault: i == 0})
	}
	return cfg, nil
}
