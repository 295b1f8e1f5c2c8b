package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"fhirlink/agent"
)

var agentEnroll = &command{
	name:  "enroll",
	usage: "agent enroll --server URL --code CODE [--config PATH] [--set NAME=VALUE ...]",
	summary: `Exchanges a one-time enrollment code for the site credential in the config file.
The code comes from 'fhirlink admin site-enroll-code'. The credential is
written to the agent's config file, keeping
the file's other settings and readable only by its owner. Enrolling again (a
new practice server, a lost secret) issues a new credential: the old one
stops working at once and the agent using it is disconnected.`,
	flags: func(fs *flag.FlagSet) func(*cmdContext) error {
		configPath := pathFlag(fs, "config", defaultConfigPath(), "the agent's config file to write (other settings in it are kept)")
		serverURL := fs.String("server", "", "the fhirlink server's base URL, https://...")
		code := fs.String("code", "", "the enrollment code the operator issued (dashes and case do not matter)")
		var sets listFlag
		fs.Var(&sets, "set", "also write a setting of 'fhirlink agent run', as NAME=VALUE (pms-password=..., allow-writes=true); repeat")
		return func(c *cmdContext) error {
			if *serverURL == "" || *code == "" {
				return errors.New("--server and --code are required")
			}
			extra, err := parseSets(sets)
			if err != nil {
				return err
			}
			host, _ := os.Hostname()
			res, err := agent.Enroll(c.ctx, *serverURL, *code, host, nil)
			if err != nil {
				return err
			}
			file, err := readConfigFile(*configPath)
			if err != nil {
				return err
			}
			for k, v := range extra {
				file[k] = v
			}
			file["server"] = strings.TrimRight(*serverURL, "/")
			file["site-id"] = res.SiteID
			file["secret"] = res.Secret
			if res.PMSType != "" {
				file["pms-type"] = res.PMSType
			}
			if res.Name != "" {
				file["practice-name"] = res.Name
			}
			if res.PracticeManagementSiteID != "" {
				file["pms-site-id"] = res.PracticeManagementSiteID
			}
			if err := writeConfigFile(*configPath, file); err != nil {
				return fmt.Errorf("the site is enrolled but its credential could not be saved (%w); enroll again with a new code", err)
			}
			fmt.Fprintf(c.stdout, "enrolled site %s (%s); config written to %s\n", res.SiteID, res.Name, *configPath)
			fmt.Fprintln(c.stdout, "next: 'fhirlink agent doctor', then 'fhirlink agent install' and 'fhirlink agent start' (or restart the service)")
			return nil
		}
	},
}

// parseSets checks --set NAME=VALUE against the flags of 'agent run'.
func parseSets(sets []string) (map[string]any, error) {
	known := flag.NewFlagSet("run", flag.ContinueOnError)
	agentFlags(known)
	out := map[string]any{}
	for _, s := range sets {
		name, value, ok := strings.Cut(s, "=")
		f := known.Lookup(name)
		if !ok || f == nil || name == "config" {
			var names []string
			known.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
			sort.Strings(names)
			return nil, fmt.Errorf("--set %q: write NAME=VALUE with NAME one of %s", s, strings.Join(names, ", "))
		}
		if err := f.Value.Set(value); err != nil {
			return nil, fmt.Errorf("--set %s: %w", name, err)
		}
		if _, repeatable := f.Value.(*listFlag); repeatable {
			prev, _ := out[name].([]any)
			out[name] = append(prev, value)
		} else {
			out[name] = value
		}
	}
	return out, nil
}

// readConfigFile reads a JSON config file; a missing file is empty.
func readConfigFile(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]any{}, nil
	} else if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return m, nil
}

// writeConfigFile replaces the config file atomically: a temporary file in
// the same directory, restricted, then renamed over it.
func writeConfigFile(path string, m map[string]any) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	_, statErr := os.Stat(dir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	if isAgentDir(dir, os.IsNotExist(statErr)) {
		if err := restrictDir(dir, ""); err != nil {
			return err
		}
	}
	tmp, err := os.CreateTemp(dir, ".agent-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	restrict := func() error { return restrictFile(tmp.Name(), "") }
	if _, err := os.Stat(path); err == nil {
		// Re-enrolling: keep the access install gave the service account.
		restrict = func() error { return keepAccess(path, tmp.Name()) }
	}
	if err := restrict(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// isAgentDir reports whether the agent owns dir, so that restricting it to
// the service account takes nothing from anyone: the platform's config
// directory, or one enroll has just created. Another directory named by
// --config keeps its permissions; only the file is restricted.
func isAgentDir(dir string, created bool) bool {
	return created || filepath.Clean(dir) == filepath.Dir(defaultConfigPath())
}
