package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// command is one sub-command: its flags and what it does.
type command struct {
	name, summary, usage string
	flags                func(fs *flag.FlagSet) func(ctx *cmdContext) error
	sub                  []*command // a command group: the first argument picks one
	// defaultSub is the sub-command a group runs when its first argument is
	// a flag (fhirlink agent --server ... is fhirlink agent run ...).
	defaultSub string
}

// cmdContext is what a running command gets besides its flags.
type cmdContext struct {
	ctx    context.Context
	args   []string // positional arguments after the flags
	stdout io.Writer
	stderr io.Writer
}

// envName is the environment variable that sets a flag: --site-id is
// FHIRLINK_SITE_ID.
func envName(flagName string) string {
	return "FHIRLINK_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags parses args, then gives every flag that was not on the command
// line its value from the environment, then from the config file (--config,
// a JSON object keyed by flag name). Command line beats environment beats
// file beats default.
//
// A command may define --config itself, with a default path (the agent's
// platform config file); a default file that does not exist is skipped, a
// named one must exist.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var configPath *string
	if f := fs.Lookup("config"); f != nil {
		v, ok := f.Value.(*stringValue)
		if !ok { // the command's own file (pathFlag), not settings to load
			v = &stringValue{}
		}
		configPath = &v.s
	} else {
		configPath = fs.String("config", "", "a JSON config file whose keys are these flags' names")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var fileErr error
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := os.LookupEnv(envName(f.Name)); ok && !set[f.Name] && fileErr == nil {
			if err := f.Value.Set(v); err != nil {
				fileErr = fmt.Errorf("%s: %w", envName(f.Name), err)
			}
			set[f.Name] = true
		}
	})
	if fileErr != nil || *configPath == "" {
		return fileErr
	}
	b, err := os.ReadFile(*configPath)
	if errors.Is(err, os.ErrNotExist) && !set["config"] {
		return nil
	} else if err != nil {
		return err
	}
	var file map[string]any
	if err := json.Unmarshal(b, &file); err != nil {
		return fmt.Errorf("config file %s: %w", *configPath, err)
	}
	for name, raw := range file {
		f := fs.Lookup(name)
		if f == nil {
			return fmt.Errorf("config file %s: unknown setting %q (run with --help for the list)", *configPath, name)
		}
		if set[name] {
			continue
		}
		values, ok := raw.([]any)
		if !ok {
			values = []any{raw}
		}
		for _, v := range values {
			s := fmt.Sprint(v)
			if n, ok := v.(float64); ok {
				s = fmt.Sprintf("%g", n)
			}
			if err := f.Value.Set(s); err != nil {
				return fmt.Errorf("config file %s: %s: %w", *configPath, name, err)
			}
		}
	}
	return nil
}

// usage prints a command's help: what it does, then each flag with its
// environment variable.
func usage(fs *flag.FlagSet, c *command) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: fhirlink %s\n\n%s\n\nFlags (each also settable as the environment variable shown, or in --config):\n", c.usage, c.summary)
		fs.VisitAll(func(f *flag.Flag) {
			def := ""
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
				def = fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(w, "  --%s  [%s]\n      %s%s\n", f.Name, envName(f.Name), f.Usage, def)
		})
	}
}

// stringValue is a string flag a command defines with [configFlag].
type stringValue struct{ s string }

func (v *stringValue) String() string     { return v.s }
func (v *stringValue) Set(s string) error { v.s = s; return nil }

// configFlag defines --config with a default path, for commands whose config
// file has a standard place.
func configFlag(fs *flag.FlagSet, def, usage string) *string {
	v := &stringValue{s: def}
	fs.Var(v, "config", usage)
	return &v.s
}

// pathValue is a flag naming a file the command itself reads or writes;
// parseFlags does not load settings from it even when it is --config.
type pathValue struct{ s string }

func (v *pathValue) String() string     { return v.s }
func (v *pathValue) Set(s string) error { v.s = s; return nil }

// pathFlag defines a file path flag that parseFlags does not load.
func pathFlag(fs *flag.FlagSet, name, def, usage string) *string {
	v := &pathValue{s: def}
	fs.Var(v, name, usage)
	return &v.s
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	if v == "" {
		return errors.New("empty value")
	}
	*l = append(*l, v)
	return nil
}
