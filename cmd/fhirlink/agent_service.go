package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/kardianos/service"
)

// serviceName is the agent's name in the service manager: the Windows
// service name, and fhirlink-agent.service for systemd.
const serviceName = "fhirlink-agent"

// systemdUnit is the agent's unit, in kardianos/service's template syntax
// (not text/template). Compared with the library's default it restarts
// after 10 s rather than 2 minutes, gives shutdown time to drain queries
// (drain-timeout is 30 s by default), starts once the network is up, and
// confines the process: it reads the system and writes only its log
// directory.
const systemdUnit = `[Unit]
Description={{Description}}
Documentation=fhirlink agent --help
ConditionFileIsExecutable={{Path | cmdEscape}}
{{range Dependencies}}{{.}}
{{end}}
[Service]
Type=simple
ExecStart={{Path | cmdEscape}}{{range Arguments}} {{. | cmd}}{{end}}
{{if UserName}}User={{UserName}}
{{end}}Restart=always
RestartSec=10
TimeoutStopSec=45
KillSignal=SIGTERM
EnvironmentFile=-/etc/fhirlink/agent.env
LogsDirectory=fhirlink
StateDirectory=fhirlink
NoNewPrivileges=yes
ProtectSystem=full
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectControlGroups=yes
RestrictSUIDSGID=yes
UMask=0077
{{range EnvVars}}{{.}}
{{end}}
[Install]
WantedBy=multi-user.target
`

// serviceConfig is the service definition for goos: the agent run with its
// config file, restarted on failure, as account when not empty (default:
// LocalSystem on Windows, root on Linux).
func serviceConfig(configPath, account, goos string) *service.Config {
	c := &service.Config{
		Name:        serviceName,
		DisplayName: "fhirlink agent",
		Description: "fhirlink agent: gives the practice's approved software vendors guarded access to the practice management database, over an outbound connection.",
		Arguments:   []string{"agent", "run", "--config", configPath},
		UserName:    account,
		Option:      service.KeyValue{},
	}
	switch goos {
	case "windows":
		// The option names are kardianos/service's Windows ones (declared
		// only in its Windows build).
		c.Option["StartType"] = "automatic"
		// After boot, once SQL Server had its chance to start.
		c.Option["DelayedAutoStart"] = true
		c.Option["OnFailure"] = "restart"
		c.Option["OnFailureDelayDuration"] = "30s"
		c.Option["OnFailureResetPeriod"] = 24 * 60 * 60
	default:
		c.Dependencies = []string{"Wants=network-online.target", "After=network-online.target"}
		c.Option["Restart"] = "always"
		c.Option["SystemdScript"] = systemdUnit
	}
	return c
}

// program runs the agent under the service manager.
type program struct {
	settings *agentSettings
	cancel   context.CancelFunc
	done     chan struct{}
	mu       sync.Mutex
}

func (p *program) Start(service.Service) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.mu.Lock()
	p.cancel, p.done = cancel, make(chan struct{})
	p.mu.Unlock()
	go func() {
		defer close(p.done)
		if err := runAgent(ctx, p.settings, os.Stderr); err != nil && ctx.Err() == nil {
			// Exiting with an error lets the service manager restart the
			// agent after its delay (Restart=always; Windows recovery).
			fmt.Fprintln(os.Stderr, "fhirlink agent:", err)
			os.Exit(1)
		}
	}()
	return nil
}

func (p *program) Stop(service.Service) error {
	p.mu.Lock()
	cancel, done := p.cancel, p.done
	p.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
	case <-time.After(p.settings.cfg.DrainTimeout + 10*time.Second):
	}
	return nil
}

// runAsService runs the agent under the service manager until it stops
// the service.
func runAsService(s *agentSettings) error {
	if s.logFile == "" {
		s.logFile = defaultLogPath()
	}
	svc, err := service.New(&program{settings: s}, serviceConfig(s.configPath, "", runtime.GOOS))
	if err != nil {
		return err
	}
	return svc.Run()
}

// serviceCommand builds one of the service management commands.
func serviceCommand(name, summary string, body func(c *cmdContext, svc service.Service, configPath, account string) error) *command {
	return &command{name: name, usage: "agent " + name + " [--config PATH]", summary: summary,
		flags: func(fs *flag.FlagSet) func(*cmdContext) error {
			configPath := pathFlag(fs, "config", defaultConfigPath(), "the agent's config file the service runs with")
			account := new(string)
			if name == "install" {
				fs.StringVar(account, "user", "", "the account the service runs as (default LocalSystem on Windows, root on Linux;\n      on Windows a virtual account such as 'NT SERVICE\\fhirlink-agent' needs no password)")
			}
			return func(c *cmdContext) error {
				abs, err := filepath.Abs(*configPath)
				if err != nil {
					return err
				}
				svc, err := service.New(&program{}, serviceConfig(abs, *account, runtime.GOOS))
				if err != nil {
					return err
				}
				return body(c, svc, abs, *account)
			}
		}}
}

var agentInstall = serviceCommand("install",
	`Installs the agent as a service started at boot, restarted after a failure.
It is a Windows service, or a systemd unit on Linux, that runs 'fhirlink agent run --config PATH' from this
executable's location; install also limits the config file
to the service account and administrators. Enroll first.`,
	func(c *cmdContext, svc service.Service, configPath, account string) error {
		if _, err := os.Stat(configPath); err != nil {
			return fmt.Errorf("config file %s: %w; run 'fhirlink agent enroll' first", configPath, err)
		}
		if dir := filepath.Dir(configPath); isAgentDir(dir, false) {
			if err := restrictDir(dir, account); err != nil {
				return fmt.Errorf("restricting %s to the service account: %w", dir, err)
			}
		}
		if err := restrictFile(configPath, account); err != nil {
			return fmt.Errorf("restricting %s to the service account: %w", configPath, err)
		}
		if err := svc.Install(); err != nil {
			return fmt.Errorf("install: %w (run as administrator/root)", err)
		}
		fmt.Fprintf(c.stdout, "installed service %s (config %s); start it with 'fhirlink agent start'\n", serviceName, configPath)
		return nil
	})

var agentUninstall = serviceCommand("uninstall", "Removes the agent's service (stop it first). The config file stays.",
	func(c *cmdContext, svc service.Service, _, _ string) error {
		if err := svc.Uninstall(); err != nil {
			return fmt.Errorf("uninstall: %w", err)
		}
		fmt.Fprintf(c.stdout, "removed service %s\n", serviceName)
		return nil
	})

var agentStart = serviceCommand("start", "Starts the agent's service.",
	func(c *cmdContext, svc service.Service, _, _ string) error {
		if err := svc.Start(); err != nil {
			return fmt.Errorf("start: %w", err)
		}
		fmt.Fprintf(c.stdout, "started %s\n", serviceName)
		return nil
	})

var agentStop = serviceCommand("stop", "Stops the agent's service; running queries get drain-timeout to finish.",
	func(c *cmdContext, svc service.Service, _, _ string) error {
		if err := svc.Stop(); err != nil {
			return fmt.Errorf("stop: %w", err)
		}
		fmt.Fprintf(c.stdout, "stopped %s\n", serviceName)
		return nil
	})

var agentStatus = serviceCommand("status", "Prints whether the agent's service is installed and running; exits 1 unless it runs.",
	func(c *cmdContext, svc service.Service, configPath, _ string) error {
		st, err := svc.Status()
		return printServiceStatus(c.stdout, st, err, configPath)
	})

func printServiceStatus(w io.Writer, st service.Status, err error, configPath string) error {
	switch {
	case errors.Is(err, service.ErrNotInstalled):
		fmt.Fprintf(w, "%s: not installed\n", serviceName)
		return errors.New("the service is not installed; run 'fhirlink agent install'")
	case err != nil:
		return fmt.Errorf("status from %s: %w (is the service installed? 'fhirlink agent install' installs it)", serviceManager(), err)
	case st == service.StatusRunning:
		fmt.Fprintf(w, "%s: running (config %s)\n", serviceName, configPath)
		return nil
	case st == service.StatusStopped:
		fmt.Fprintf(w, "%s: stopped\n", serviceName)
		return errors.New("the service is stopped; run 'fhirlink agent start', and 'fhirlink agent doctor' if it stops again")
	}
	fmt.Fprintf(w, "%s: status unknown\n", serviceName)
	return errors.New("the service manager did not report the status")
}

// serviceManager names the service manager kardianos/service drives here.
func serviceManager() string {
	if sys := service.ChosenSystem(); sys != nil {
		return sys.String()
	}
	return "the service manager"
}
