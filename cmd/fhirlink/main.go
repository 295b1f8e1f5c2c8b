// Command fhirlink is the one binary of fhirlink: the cloud server, the
// practice agent, a self-contained demo and the administration commands.
// It only wires packages together; see the README for the whole picture.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // practice time zones must resolve on Windows servers too

	"fhirlink/agent"
	"fhirlink/server"
)

func commands() []*command {
	return []*command{serverCommand, agentCommand, demoCommand, adminCommand, versionCommand}
}

var versionCommand = &command{
	name: "version", usage: "version", summary: "Prints the version.",
	flags: func(*flag.FlagSet) func(*cmdContext) error {
		return func(c *cmdContext) error { _, err := fmt.Fprintln(c.stdout, "fhirlink", agent.Version); return err }
	},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		topUsage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	return dispatch(ctx, commands(), args, stdout, stderr, "")
}

func dispatch(ctx context.Context, cmds []*command, args []string, stdout, stderr io.Writer, prefix string) int {
	for _, c := range cmds {
		if c.name != args[0] {
			continue
		}
		if c.sub != nil && c.defaultSub != "" && len(args) >= 2 && strings.HasPrefix(args[1], "-") && args[1] != "-h" && args[1] != "--help" {
			args = append([]string{c.name, c.defaultSub}, args[1:]...)
		}
		if c.sub != nil {
			if len(args) < 2 || args[1] == "-h" || args[1] == "--help" {
				fmt.Fprintf(stdout, "Usage: fhirlink %s\n\n%s\n\nCommands:\n", c.usage, c.summary)
				for _, s := range c.sub {
					fmt.Fprintf(stdout, "  %-22s %s\n", s.name, firstLine(s.summary))
				}
				if len(args) < 2 {
					return 2
				}
				return 0
			}
			return dispatch(ctx, c.sub, args[1:], stdout, stderr, prefix+c.name+" ")
		}
		fs := flag.NewFlagSet(prefix+c.name, flag.ContinueOnError)
		fs.SetOutput(stderr)
		fs.Usage = usage(fs, c)
		runFn := c.flags(fs)
		if err := parseFlags(fs, args[1:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(stdout)
				fs.Usage()
				return 0
			}
			fmt.Fprintln(stderr, "fhirlink:", err)
			return 2
		}
		if err := runFn(&cmdContext{args: fs.Args(), stdout: stdout, stderr: stderr, ctx: ctx}); err != nil {
			fmt.Fprintln(stderr, "fhirlink:", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "fhirlink: unknown command %q; run fhirlink --help\n", strings.TrimSpace(prefix+args[0]))
	return 2
}

func topUsage(w io.Writer) {
	fmt.Fprint(w, `fhirlink gives software vendors FHIR R4 and SQL access to Australian general
practice databases, through an agent on the practice server that dials out.

Usage: fhirlink <command> [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, firstLine(c.summary))
	}
	fmt.Fprint(w, "\nRun fhirlink <command> --help for a command's flags.\n")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// logger returns a logger at the given level to w, in format json (one
// JSON object a line, for log collectors) or text (key=value, for people).
// Lines logged in a request's context carry its request id.
func logger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	opt := &slog.HandlerOptions{Level: l}
	switch format {
	case "json":
		return slog.New(server.LogHandler(slog.NewJSONHandler(w, opt))), nil
	case "text":
		return slog.New(server.LogHandler(slog.NewTextHandler(w, opt))), nil
	}
	return nil, fmt.Errorf("log format %q: use json or text", format)
}
