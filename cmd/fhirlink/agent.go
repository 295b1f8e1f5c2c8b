package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kardianos/service"

	"fhirlink/agent"
	"fhirlink/agent/executor"
	"fhirlink/agent/logfile"
	"fhirlink/agent/wire"
)

// agentCommand groups the practice agent's commands. "fhirlink agent
// --flags" is "fhirlink agent run --flags", as it was before the group.
var agentCommand = &command{
	name:  "agent",
	usage: "agent <command> [flags]",
	summary: `Runs and manages the practice agent: it dials out to the server and answers
its queries on the practice database through the guard (queue, deadlines,
size caps, read-only unless allow-writes).`,
	sub:        []*command{agentRun, agentEnroll, agentDoctor, agentInstall, agentUninstall, agentStart, agentStop, agentStatus, agentPairingCode, agentPairings, agentRevoke, agentGrantWrites, agentAudit},
	defaultSub: "run",
}

var agentRun = &command{
	name:  "run",
	usage: "agent run [flags]",
	summary: `Runs the agent in the foreground (the service manager starts it this way too).
It dials out to the server, and answers its queries on the practice database
through the guard (queue, deadlines, size caps, read-only unless
--allow-writes). Settings come from the flags, FHIRLINK_* variables and the
config file; on shutdown, running queries get drain-timeout to finish.`,
	flags: func(fs *flag.FlagSet) func(*cmdContext) error {
		load := agentFlags(fs)
		return func(c *cmdContext) error {
			s, err := load(true)
			if err != nil {
				return err
			}
			if !service.Interactive() {
				return runAsService(s)
			}
			return runAgent(c.ctx, s, c.stderr)
		}
	},
}

// agentSettings is the agent's configuration as the flags give it.
type agentSettings struct {
	configPath string
	cfg        agent.Config
	logLevel   string
	logFile    string
	logMaxMB   int
	logKeep    int
}

// agentFlags defines the agent's flags and returns the function that turns
// them into a configuration once they are parsed; requireCredential says
// whether the server and site credential must be set.
func agentFlags(fs *flag.FlagSet) func(requireCredential bool) (*agentSettings, error) {
	configPath := configFlag(fs, defaultConfigPath(), "the agent's JSON config file, whose keys are these flags' names\n      (written by 'fhirlink agent enroll'; skipped when the default does not exist)")
	serverURL := fs.String("server", "", "the fhirlink server's base URL, https://...")
	siteID := fs.String("site-id", "", "this site's id (written by 'fhirlink agent enroll')")
	secret := fs.String("secret", "", "this site's agent secret (written by 'fhirlink agent enroll'; keep it in the config file)")
	engine := fs.String("engine", wire.EngineSQLServer, "database engine of --catalogue: sqlserver, postgres or sqlite")
	var catalogues listFlag
	fs.Var(&catalogues, "catalogue", "a database as NAME=DSN; repeat for several, the first is the default\n      (sqlserver://bpsrawdata:PASSWORD@SERVER/BPSINSTANCE?database=BPSPatients, postgres://..., or a SQLite file path);\n      without it the database is built from the pms-* settings")
	allowWrites := fs.Bool("allow-writes", false, "let the integrators granted writes ('fhirlink agent grant-writes') run nonQuery and stored procedure commands and FHIR writes")
	consoleGrants := fs.Bool("console-grants", false, "let the practice grant integrators writes from the server's web console too (it may always revoke them there);\n      without it only 'fhirlink agent grant-writes' grants, so the server cannot grant writes on its own")
	concurrency := fs.Int("concurrency", 2, "queries run at once on the database")
	pmsType := fs.String("pms-type", wire.PMSBestPractice, "the practice management system: BestPractice, Zedmed or D4w")
	practiceName := fs.String("practice-name", "", "the practice's name, shown in the site status")
	pmsSiteID := fs.String("pms-site-id", "", "the PMS's own identifier of this practice")
	timeZone := fs.String("time-zone", "Australia/Sydney", "the practice's IANA time zone: PMS times are stored without one")

	var pms agent.PMS
	fs.StringVar(&pms.Host, "pms-host", "localhost", "the PMS database server's host")
	fs.IntVar(&pms.Port, "pms-port", 0, "the PMS database server's TCP port (default: SQL Server Browser finds the instance; 3050 for Firebird)")
	fs.StringVar(&pms.User, "pms-user", "", "the database login (default bpsrawdata for Bp Premier, SYSDBA for Zedmed; DOMAIN\\user with pms-integrated on Linux)")
	fs.StringVar(&pms.Password, "pms-password", "", "the database login's password (keep it in the config file)")
	fs.BoolVar(&pms.Integrated, "pms-integrated", false, "Bp Premier: Windows integrated authentication as the service account instead of a SQL login")
	fs.StringVar(&pms.Instance, "bp-instance", agent.DefaultBPInstance, "Bp Premier: the SQL Server instance")
	fs.StringVar(&pms.Database, "bp-database", agent.DefaultBPDatabase, "Bp Premier: the database")
	var zedmed listFlag
	fs.Var(&zedmed, "zedmed-database", "Zedmed: a Firebird database as NAME=PATH (as the Firebird server sees it); repeat, the first is the default")

	proxy := fs.String("https-proxy", "", "the proxy to reach the server through, http://host:port (default: the HTTPS_PROXY environment variable;\n      a Windows service does not see the user's, so set it here)")
	drain := fs.Duration("drain-timeout", 30*time.Second, "on shutdown, how long running queries may finish before they are cancelled")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	logFile := fs.String("log-file", "", "a log file, rotated by size (default: standard error in the foreground, "+defaultLogPath()+" as a service)")
	logMaxMB := fs.Int("log-max-mb", 10, "rotate the log file past this size")
	logKeep := fs.Int("log-keep", 5, "rotated log files kept")
	grantsPath := fs.String("write-grants", "", "the practice's record of the integrators it lets write, which 'fhirlink agent grant-writes' changes\n      (default: write-grants.json next to --config)")
	journalPath := fs.String("journal", "", "the execution journal, which makes each write run at most once (ids and outcomes only, no patient data)\n      (default: executions.db next to --config, or "+defaultJournalPath()+" for the installed agent's config)")

	return func(requireCredential bool) (*agentSettings, error) {
		if requireCredential && (*serverURL == "" || *siteID == "" || *secret == "") {
			return nil, fmt.Errorf("server, site-id and secret are required: enroll with 'fhirlink agent enroll --server URL --code CODE' (config file %s), or pass --server, --site-id and --secret", *configPath)
		}
		if *proxy != "" {
			// The tunnel, enrollment and doctor all take the proxy from the
			// environment, as any HTTPS client on the machine would.
			os.Setenv("HTTPS_PROXY", *proxy)
		}
		var db executor.Config
		var err error
		if len(catalogues) > 0 {
			db, err = databaseConfig(*engine, catalogues, *allowWrites)
		} else {
			pms.Type, pms.Databases = *pmsType, zedmed
			db, err = pms.Catalogues(*allowWrites)
		}
		if err != nil {
			return nil, err
		}
		journal := *journalPath
		if journal == "" {
			journal = journalBeside(*configPath)
		}
		return &agentSettings{
			configPath: *configPath,
			cfg: agent.Config{
				ServerURL: *serverURL, SiteID: *siteID, Secret: *secret,
				Database: db, Concurrency: *concurrency, DrainTimeout: *drain, Journal: journal,
				WriteGrants: cmp.Or(*grantsPath, grantsBeside(*configPath)), ConsoleGrants: *consoleGrants,
				PMSType: *pmsType, PracticeName: *practiceName, PracticeManagementSiteID: *pmsSiteID, TimeZone: *timeZone,
			},
			logLevel: *logLevel, logFile: *logFile, logMaxMB: *logMaxMB, logKeep: *logKeep,
		}, nil
	}
}

// journalBeside is the default execution journal of the agent whose
// config file is configPath.
func journalBeside(configPath string) string {
	if filepath.Clean(configPath) == filepath.Clean(defaultConfigPath()) {
		return defaultJournalPath()
	}
	return filepath.Join(filepath.Dir(configPath), "executions.db")
}

// grantsBeside is the default write grants file of the agent whose config
// file is configPath: the service reads it, an administrator changes it.
func grantsBeside(configPath string) string {
	return filepath.Join(filepath.Dir(configPath), "write-grants.json")
}

// openLog opens the agent's log: the log file when one is set, else w.
func (s *agentSettings) openLog(w io.Writer) (*slog.Logger, io.Closer, error) {
	var closer io.Closer = io.NopCloser(nil)
	if s.logFile != "" {
		f, err := logfile.Open(s.logFile, int64(s.logMaxMB)<<20, s.logKeep)
		if err != nil {
			return nil, nil, fmt.Errorf("log file: %w", err)
		}
		w, closer = f, f
	}
	log, err := logger(w, s.logLevel, "text")
	if err != nil {
		closer.Close()
		return nil, nil, err
	}
	return log, closer, nil
}

// runAgent runs the agent until ctx is done, then drains it.
func runAgent(ctx context.Context, s *agentSettings, stderr io.Writer) error {
	log, closer, err := s.openLog(stderr)
	if err != nil {
		return err
	}
	defer closer.Close()
	s.cfg.Logger = log
	a, err := agent.New(ctx, s.cfg)
	if err != nil {
		log.Error("agent cannot start", "err", err)
		return err
	}
	defer a.Close()
	log.Info("fhirlink agent starting", "version", agent.Version, "server", s.cfg.ServerURL, "engine", s.cfg.Database.Engine)
	err = a.Run(ctx)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	log.Info("fhirlink agent stopped", "err", err)
	return err
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

var agentDoctor = &command{
	name:  "doctor",
	usage: "agent doctor [flags]",
	summary: `Checks the agent's set-up and prints a verdict per check, with what to do.
Verdicts are OK, WARN and FAIL. It checks the configuration, the database connection and read access,
write access when enabled, the server's reachability (through HTTPS_PROXY
when set), its TLS certificate, and the clock against the server's. Exits
with status 1 when a check fails. It does not connect the tunnel, so it is
safe while the service runs.`,
	flags: func(fs *flag.FlagSet) func(*cmdContext) error {
		load := agentFlags(fs)
		return func(c *cmdContext) error {
			s, err := load(false)
			if err != nil {
				return err
			}
			checks := agent.Doctor(c.ctx, s.cfg, nil)
			printChecks(c.stdout, checks)
			if agent.Failed(checks) {
				return errors.New("doctor found problems; see the FAIL lines")
			}
			return nil
		}
	},
}

func printChecks(w io.Writer, checks []agent.Check) {
	for _, ch := range checks {
		fmt.Fprintf(w, "%-4s  %-20s %s\n", ch.Verdict, ch.Name, ch.Detail)
		if ch.Fix != "" {
			fmt.Fprintf(w, "      %-20s → %s\n", "", ch.Fix)
		}
	}
}
