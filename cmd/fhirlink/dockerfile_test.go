package main

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// dockerBuild is the `go build` command of the Dockerfile's build stage.
type dockerBuild struct {
	goImage string   // the build stage's golang image tag, e.g. 1.26-bookworm
	env     []string // NAME=VALUE, from ENV lines and the command's prefix
	args    []string // after `go build`
	final   string   // the last stage's base image
}

// parseDockerfile reads the first stage's golang image, its ENV lines and
// the RUN line running `go build` (continuation lines joined, the command
// picked out of an && chain, shell quotes removed), and the last stage's
// base image.
func parseDockerfile(t *testing.T, path string) dockerBuild {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "#") || (l == "" && cur.Len() == 0) {
			continue
		}
		if s, ok := strings.CutSuffix(l, `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(l)
		lines = append(lines, cur.String())
		cur.Reset()
	}
	var b dockerBuild
	stage := 0
	for _, l := range lines {
		instr, rest, _ := strings.Cut(l, " ")
		switch strings.ToUpper(instr) {
		case "FROM":
			stage++
			image := strings.Fields(rest)[0]
			b.final = image
			if stage == 1 {
				name, tag, _ := strings.Cut(image, ":")
				if name != "golang" {
					t.Fatalf("Dockerfile: the build stage is FROM %s, not a golang image", image)
				}
				b.goImage = tag
			}
		case "ENV":
			if stage == 1 {
				for _, kv := range shellWords(t, rest) {
					if strings.Contains(kv, "=") {
						b.env = append(b.env, kv)
					}
				}
			}
		case "RUN":
			if stage != 1 || !strings.Contains(rest, "go build") {
				continue
			}
			for _, cmd := range strings.Split(rest, "&&") {
				w := shellWords(t, cmd)
				i := 0
				for i < len(w) && regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`).MatchString(w[i]) {
					i++
				}
				if len(w) >= i+2 && w[i] == "go" && w[i+1] == "build" {
					b.env = append(b.env, w[:i]...)
					b.args = w[i+2:]
				}
			}
		}
	}
	if b.args == nil {
		t.Fatal("Dockerfile: no `go build` in the build stage's RUN lines")
	}
	return b
}

// shellWords splits a command as sh would, for what a Dockerfile uses:
// blanks, single and double quotes.
func shellWords(t *testing.T, s string) []string {
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("Dockerfile: unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// The Dockerfile's build stage builds: its golang image is new enough for
// go.mod, and its very `go build` command (environment, flags, tags,
// ldflags, package) succeeds here, making the static binary its scratch
// image needs. Docker itself is not needed.
func TestDockerfileBuildStage(t *testing.T) {
	root := filepath.Join("..", "..")
	b := parseDockerfile(t, filepath.Join(root, "Dockerfile"))

	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	need := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)`).FindStringSubmatch(string(gomod))
	have := regexp.MustCompile(`^(\d+)\.(\d+)`).FindStringSubmatch(b.goImage)
	if need == nil || have == nil {
		t.Fatalf("cannot compare go.mod's Go version with the image golang:%s", b.goImage)
	}
	if n, h := version(need[1], need[2]), version(have[1], have[2]); h < n {
		t.Fatalf("Dockerfile builds with golang:%s, older than go.mod's go %s.%s", b.goImage, need[1], need[2])
	}

	// The command as written, writing its binary here instead of /out.
	out := filepath.Join(t.TempDir(), "fhirlink")
	args := append([]string{"build"}, b.args...)
	for i, a := range args {
		if a == "-o" && i+1 < len(args) {
			args[i+1] = out
		} else if strings.HasPrefix(a, "-o=") {
			args[i] = "-o=" + out
		}
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), b.env...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the Dockerfile's build fails: %s %s: %v\n%s", strings.Join(b.env, " "), strings.Join(cmd.Args, " "), err, msg)
	}
	if b.final == "scratch" && goEnv(b.env, "GOOS") == "linux" {
		f, err := elf.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if f.Section(".interp") != nil {
			t.Fatal("the Dockerfile's binary is dynamically linked, but its image is FROM scratch (no libc): build it with CGO_ENABLED=0")
		}
	}
}

func version(major, minor string) int {
	a, _ := strconv.Atoi(major)
	b, _ := strconv.Atoi(minor)
	return a*1000 + b
}

// goEnv is a Go setting as the build saw it: from env, else this
// toolchain's.
func goEnv(env []string, name string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], name+"="); ok {
			return v
		}
	}
	out, _ := exec.Command("go", "env", name).Output()
	return strings.TrimSpace(string(out))
}
