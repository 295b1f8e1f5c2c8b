package agent

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"fhirlink/agent/executor"
	"fhirlink/agent/wire"
)

// PMS describes how to reach a practice management system's database
// without writing driver DSNs by hand. [PMS.Catalogues] turns it into the
// executor's catalogues with the defaults of a standard installation.
type PMS struct {
	// Type is wire.PMSBestPractice or wire.PMSZedmed.
	Type string

	// Host is the database server's host (default localhost); Port its TCP
	// port (default: SQL Server Browser resolves the instance; 3050 for
	// Firebird).
	Host string
	Port int
	// User and Password are the database login. Bp Premier's read-only
	// login is bpsrawdata; Zedmed's Firebird default is SYSDBA.
	User, Password string

	// Instance is Bp Premier's SQL Server instance (default BPSINSTANCE) and
	// Database its database (default BPSPatients).
	Instance, Database string
	// Integrated uses Windows integrated authentication instead of a SQL
	// Server login: with no User, the agent logs in as its service account
	// through SSPI (Windows only); with User as DOMAIN\user and Password, it
	// logs in as that domain account through NTLM (Windows and Linux).
	Integrated bool

	// Databases are Zedmed's Firebird database files as NAME=PATH, one per
	// catalogue (the first is the default), as the Firebird server sees the
	// path: C:\Zedmed\Data\ZEDMED.FDB.
	Databases []string
}

// PMS defaults of a standard installation.
const (
	DefaultBPInstance = "BPSINSTANCE"
	DefaultBPDatabase = "BPSPatients"
	DefaultBPUser     = "bpsrawdata"
	DefaultZedmedUser = "SYSDBA"
	defaultFirebird   = 3050
)

// Database returns the executor configuration reaching the PMS's databases.
func (p PMS) Catalogues(allowWrites bool) (executor.Config, error) {
	host := p.Host
	if host == "" {
		host = "localhost"
	}
	switch p.Type {
	case wire.PMSBestPractice, "":
		if p.Instance == "" {
			p.Instance = DefaultBPInstance
		}
		if p.Database == "" {
			p.Database = DefaultBPDatabase
		}
		u := url.URL{Scheme: "sqlserver", Host: host, Path: "/" + p.Instance}
		if p.Port > 0 {
			// A fixed port bypasses SQL Server Browser; the instance name is
			// then not needed.
			u.Host, u.Path = net.JoinHostPort(host, strconv.Itoa(p.Port)), ""
		}
		q := url.Values{"database": {p.Database}}
		switch {
		case p.Integrated && p.User == "":
			// No login in the URL: go-mssqldb authenticates the service
			// account through SSPI (Windows only).
		case p.Integrated:
			// A domain login (DOMAIN\user) with its password: NTLM, which
			// go-mssqldb also speaks on Linux.
			u.User = url.UserPassword(p.User, p.Password)
		case p.Password == "":
			return executor.Config{}, errors.New("the Bp Premier database password is not set: set pms-password, or use Windows integrated authentication (pms-integrated)")
		default:
			user := p.User
			if user == "" {
				user = DefaultBPUser
			}
			u.User = url.UserPassword(user, p.Password)
		}
		q.Set("app name", "fhirlink agent")
		u.RawQuery = q.Encode()
		return executor.Config{Engine: wire.EngineSQLServer, AllowWrites: allowWrites, Catalogues: []executor.Catalogue{
			{Name: p.Database, DSN: u.String(), IsDefault: true},
		}}, nil
	case wire.PMSZedmed:
		if len(p.Databases) == 0 {
			return executor.Config{}, errors.New("no Zedmed database is set: give each Firebird database as NAME=PATH (zedmed-database)")
		}
		if p.Password == "" {
			return executor.Config{}, errors.New("the Zedmed Firebird password is not set: set pms-password")
		}
		user := p.User
		if user == "" {
			user = DefaultZedmedUser
		}
		port := p.Port
		if port == 0 {
			port = defaultFirebird
		}
		cfg := executor.Config{Engine: wire.EngineFirebird, AllowWrites: allowWrites}
		for i, d := range p.Databases {
			name, path, ok := strings.Cut(d, "=")
			if !ok || name == "" || path == "" {
				return executor.Config{}, fmt.Errorf("zedmed-database %q: write NAME=PATH", d)
			}
			// user:password@host:port/path, the path as the server knows it.
			u := url.URL{Scheme: "firebird", User: url.UserPassword(user, p.Password),
				Host: net.JoinHostPort(host, strconv.Itoa(port)), Path: "/" + strings.ReplaceAll(path, `\`, "/")}
			cfg.Catalogues = append(cfg.Catalogues, executor.Catalogue{Name: name, DSN: u.String(), IsDefault: i == 0})
		}
		return cfg, nil
	}
	return executor.Config{}, fmt.Errorf("PMS type %q: use BestPractice or Zedmed, or give the catalogues' DSNs directly", p.Type)
}
