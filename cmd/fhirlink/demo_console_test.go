package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// checkDemoConsole checks the console part of what the demo printed: the
// printed sign-in link opens a page (which does not use it) whose button
// signs the demo practice in, once; the printed command makes another link
// that works too.
func checkDemoConsole(t *testing.T, ctx context.Context, out string) {
	link := regexp.MustCompile(`(?m)^(http://\S+)/console/link/\S+$`).FindStringSubmatch(out)
	if link == nil {
		t.Fatalf("no console sign-in link printed:\n%s", out)
	}
	if !strings.Contains(out, "Web console, for people: "+link[1]+"/console/\n") {
		t.Fatalf("the console's URL is not printed:\n%s", out)
	}
	signInWithDemoLink(t, link[0], true)

	var cmd string
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, demoNewLink); ok {
			cmd = rest
		}
	}
	args := strings.Fields(cmd)
	if len(args) < 2 || args[0] != "fhirlink" {
		t.Fatalf("no command making another link printed:\n%s", out)
	}
	var stdout, stderr bytes.Buffer
	if code := run(ctx, args[1:], &stdout, &stderr); code != 0 {
		t.Fatalf("%s: exit %d: %s", cmd, code, stderr.String())
	}
	var made struct{ URL string }
	if err := json.Unmarshal(stdout.Bytes(), &made); err != nil || made.URL == "" {
		t.Fatalf("%s printed %s", cmd, stdout.String())
	}
	signInWithDemoLink(t, made.URL, false)
}

// signInWithDemoLink opens a sign-in link, signs in with its button and
// checks the demo practice's page; with again, it checks the link is then
// used up.
func signInWithDemoLink(t *testing.T, link string, again bool) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func(u string) (int, string) {
		t.Helper()
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, page := get(link)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	token := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(page)
	if status != http.StatusOK || csrf == nil || token == nil || !strings.Contains(page, demoPractices["BestPractice"].name) && !strings.Contains(page, demoPractices["Zedmed"].name) {
		t.Fatalf("the link's page: %d\n%s", status, page)
	}
	base := link[:strings.Index(link, "/console/")]
	form := url.Values{"csrf": {csrf[1]}, "token": {token[1]}}
	resp, err := c.PostForm(base+"/console/link", form)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/console/practice" || !strings.Contains(string(b), `id="availability">online<`) {
		t.Fatalf("signing in with the link: %d %s\n%s", resp.StatusCode, resp.Request.URL, b)
	}
	if again {
		if status, _ := get(link); status != http.StatusNotFound {
			t.Fatalf("the used link: %d, want 404", status)
		}
	}
}
