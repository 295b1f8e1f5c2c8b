package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"fhirlink/server"
	"fhirlink/server/sqlite"
	"fhirlink/server/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) server.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}

func TestReopenKeepsState(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateIntegrator(ctx, &server.Integrator{ID: "i1", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = sqlite.Open(ctx, path) // migrations must not run twice
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if in, err := st.Integrator(ctx, "i1"); err != nil || in.Name != "Acme" {
		t.Fatalf("after reopen: %v, %v", in, err)
	}
}

func TestCredentialChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.CredentialChanges(t, st, func(id string) error {
		_, err := db.Exec(`DELETE FROM sites WHERE id = ?`, id)
		return err
	})
}
