// Package apttest installs the Debian packages the integration tests need
// (PostgreSQL, Firebird, Chromium) when they are missing and installing is
// allowed; the callers decide whether it is.
package apttest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"time"
)

// Install installs pkg with apt-get within timeout, refreshing the package
// lists only when the first attempt fails (a fresh machine may have none).
func Install(pkg string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	aptGet := func(args ...string) error {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %v: %v\n%s", args, err, out)
		}
		return nil
	}
	if aptGet("install", "-y", pkg) == nil {
		return nil
	}
	if err := aptGet("update"); err != nil {
		return err
	}
	return aptGet("install", "-y", pkg)
}
