package console

import (
	"fmt"
	"time"
)

// when formats a time for the pages: UTC to the second, "never" for zero.
func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// byteSize formats a byte count for people.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// limit formats a daily limit: 0 is unlimited.
func limit(n int64, bytes bool) string {
	switch {
	case n <= 0:
		return "unlimited"
	case bytes:
		return byteSize(n)
	}
	return fmt.Sprint(n)
}

// short cuts s to at most n bytes.
func short(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
