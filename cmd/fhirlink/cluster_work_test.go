//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"fhirlink/agent/waittest"
	"fhirlink/fhir/fhirvalidate"
	"fhirlink/server/fhirlinktest"
)

// The shared work of several nodes (issue 11, item 2): exports and async
// queries live in the state store and the result store, so any node
// answers for them, and they survive the death of the node running them.

// kickOff starts an export of site at addr and returns its status path.
func (f *fleet) kickOff(addr, site, query string) string {
	f.t.Helper()
	status, h, b := f.get(addr, "/integrator/sites/"+site+"/fhir/R4/$export?"+query, "Prefer", "respond-async")
	u, err := url.Parse(h.Get("Content-Location"))
	if status != http.StatusAccepted || err != nil {
		f.t.Fatalf("export kick-off at %s: %d %s", addr, status, b)
	}
	return u.RequestURI()
}

type exportManifest struct {
	Output, Error []struct {
		Type  string
		URL   string
		Count int64
	}
}

// waitExport polls the export at each of nodes in turn, twice a second at
// most, until it completes.
func (f *fleet) waitExport(statusPath string, nodes ...int) exportManifest {
	f.t.Helper()
	var m exportManifest
	var last time.Time
	i := 0
	waittest.For(f.t, 3*time.Minute, "the export "+statusPath+" to complete", func() bool {
		if time.Since(last) < 500*time.Millisecond {
			return false
		}
		last = time.Now()
		n := nodes[i%len(nodes)]
		i++
		status, _, b := f.get(f.addrs[n], statusPath)
		switch status {
		case http.StatusAccepted, http.StatusTooManyRequests: // running; or this node was polled too soon
			return false
		case http.StatusOK:
			if err := json.Unmarshal(b, &m); err != nil {
				f.t.Fatal(err)
			}
			return true
		}
		f.t.Fatalf("export status at node %d: %d %s", n, status, b)
		return false
	})
	return m
}

// download fetches every output file of m, each from the next of nodes,
// and returns their lines by type.
func (f *fleet) download(m exportManifest, nodes ...int) map[string][]string {
	f.t.Helper()
	out := map[string][]string{}
	for i, file := range m.Output {
		u, err := url.Parse(file.URL)
		if err != nil {
			f.t.Fatal(err)
		}
		n := nodes[i%len(nodes)]
		status, _, b := f.get(f.addrs[n], u.RequestURI(), "Accept", "application/fhir+ndjson")
		if status != http.StatusOK {
			f.t.Fatalf("file %s at node %d: %d %.300s", path.Base(u.Path), n, status, b)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		lines := 0
		for sc.Scan() {
			out[file.Type] = append(out[file.Type], sc.Text())
			lines++
		}
		if int64(lines) != file.Count {
			f.t.Fatalf("file %s has %d lines, the manifest says %d", file.URL, lines, file.Count)
		}
	}
	return out
}

// sameResourcesOnce fails unless every resource of got is there once and got
// holds the same resources as want.
func sameResourcesOnce(t *testing.T, got, want map[string][]string) {
	t.Helper()
	for typ, lines := range want {
		seen := map[string]int{}
		for _, l := range got[typ] {
			var r struct{ ID string }
			json.Unmarshal([]byte(l), &r)
			if seen[r.ID]++; seen[r.ID] > 1 {
				t.Fatalf("%s/%s is in the export %d times", typ, r.ID, seen[r.ID])
			}
		}
		a, b := slices.Sorted(slices.Values(got[typ])), slices.Sorted(slices.Values(lines))
		if !slices.Equal(a, b) {
			t.Fatalf("%s: %d resources exported, want the %d of an export that ran undisturbed", typ, len(a), len(b))
		}
	}
}

// sharedWork runs the subtests of exports and async queries across nodes.
func sharedWork(t *testing.T, f *fleet, practice *sql.DB, patients int) {
	state, err := sql.Open("pgx", f.state)
	if err != nil {
		t.Fatal(err)
	}
	defer state.Close()
	var reference map[string][]string

	t.Run("an export polled and downloaded through other nodes", func(t *testing.T) {
		f.t = t
		statusPath := f.kickOff(f.addrs[0], f.sites[1], "_type=Patient,Condition")
		m := f.waitExport(statusPath, 1, 2, 0)
		reference = f.download(m, 2, 0, 1)
		if len(reference["Patient"]) < patients || len(reference["Condition"]) == 0 || len(m.Error) != 0 {
			t.Fatalf("exported %d patients (want %d or more), %d conditions, %d error files",
				len(reference["Patient"]), patients, len(reference["Condition"]), len(m.Error))
		}
		sameResourcesOnce(t, reference, reference)
		var all []json.RawMessage
		for _, lines := range reference {
			for _, l := range lines {
				all = append(all, json.RawMessage(l))
			}
		}
		fhirvalidate.Resources(t, all...)
	})

	t.Run("a node killed mid-export", func(t *testing.T) {
		f.t = t
		// The Condition query waits behind a lock, so the export is
		// mid-way (its Patient file recorded) when its node is killed.
		tx, err := practice.Begin()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec(`LOCK TABLE "PASTHISTORY" IN ACCESS EXCLUSIVE MODE`); err != nil {
			t.Fatal(err)
		}
		statusPath := f.kickOff(f.addrs[1], f.sites[1], "_type=Patient,Condition")
		job := path.Base(statusPath)
		var holder, doc string
		waittest.For(t, 60*time.Second, "the export past its Patient type", func() bool {
			state.QueryRow(`SELECT holder, convert_from(doc, 'UTF8') FROM export_jobs WHERE id = $1`, job).Scan(&holder, &doc)
			return strings.Contains(doc, `"cursor":"{\"type\":1}"`)
		})
		waittest.For(t, 30*time.Second, "the Condition query waiting for the lock", func() bool {
			var n int
			practice.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%PASTHISTORY%'`).Scan(&n)
			return n > 0
		})
		var dead int
		if _, err := fmt.Sscanf(holder, "node%d", &dead); err != nil {
			t.Fatalf("export holder %q", holder)
		}
		f.kill(f.nodes[dead])
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		var living []int
		for n := range f.addrs {
			if n != dead {
				living = append(living, n)
			}
		}
		m := f.waitExport(statusPath, living...)
		got := f.download(m, living...)
		sameResourcesOnce(t, got, reference)
		var attempt int
		state.QueryRow(`SELECT attempt, holder FROM export_jobs WHERE id = $1`, job).Scan(&attempt, &holder)
		if attempt < 2 || holder == fmt.Sprintf("node%d", dead) {
			t.Fatalf("the export was not taken over: attempt %d, holder %s (node%d was killed)", attempt, holder, dead)
		}
		t.Logf("killed node%d mid-export; %s resumed it (attempt %d): %d patients, %d conditions, each once",
			dead, holder, attempt, len(got["Patient"]), len(got["Condition"]))
		f.restart(dead)
	})

	t.Run("async queries queued when a node dies carry on", func(t *testing.T) {
		f.t = t
		site := f.sites[2]
		dead := f.lb.holder(site)
		const rows = 5000
		var ids []string
		for n := range f.addrs {
			for range 2 {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				status, _, b, err := f.call(ctx, f.addrs[n], http.MethodPost, "/integrator/sites/"+site+"/queries/async",
					fhirlinktest.Command(fmt.Sprintf("SELECT n, md5(n::text) AS h FROM generate_series(1, %d) AS n, pg_sleep(2)", rows)))
				cancel()
				var q fhirlinktest.QueryObject
				if err != nil || status != http.StatusCreated || json.Unmarshal(b, &q) != nil {
					t.Fatalf("async at node %d: %d %s %v", n, status, b, err)
				}
				ids = append(ids, q.ID)
			}
		}
		waittest.For(t, 60*time.Second, "some queries executing", func() bool {
			var n int
			practice.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%pg_sleep(2)%' AND pid <> pg_backend_pid()`).Scan(&n)
			return n > 0
		})
		f.kill(f.nodes[dead]) // the node holding the site's agent, and running some of the queries
		living := (dead + 1) % len(f.addrs)
		for _, id := range ids {
			var q fhirlinktest.QueryObject
			waittest.For(t, 3*time.Minute, "async query "+id+" to end", func() bool {
				status, _, b := f.get(f.addrs[living], "/integrator/sites/"+site+"/queries/"+id)
				q = fhirlinktest.QueryObject{}
				return status == http.StatusOK && json.Unmarshal(b, &q) == nil &&
					!slices.Contains([]string{"queued", "initialising", "executing", "uploading"}, q.Status)
			})
			if q.Status != "successful" {
				t.Fatalf("async query %s ended %s after node%d died", id, q.Status, dead)
			}
			status, _, b := f.get(f.addrs[living], "/integrator/sites/"+site+"/queries/"+id+"/results/1/stream")
			var got []map[string]any
			if status != http.StatusOK || json.Unmarshal(b, &got) != nil || len(got) != rows {
				t.Fatalf("async query %s page 1: %d, %d rows, want %d", id, status, len(got), rows)
			}
		}
		f.restart(dead)
		for _, s := range f.sites {
			f.waitSite(f.addrs[dead], s, "online")
		}
	})
	f.t = t
}
