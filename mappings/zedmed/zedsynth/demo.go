package zedsynth

import (
	"context"
	"database/sql"
	"fmt"
	"os"
)

// CreateSQLite builds a complete synthetic Zedmed site as two SQLite database files, for the
// demo: the main database (catalogue ZEDMED, which FHIR reads) at mainPath and the billing
// database (catalogue ZEDBILL) at billingPath, or none when billingPath is "". Existing files
// are refused. The caller must have the "sqlite" driver registered (modernc.org/sqlite).
func CreateSQLite(ctx context.Context, mainPath, billingPath string, opt Options) error {
	for _, p := range []string{mainPath, billingPath} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("zedsynth: %s already exists", p)
		}
	}
	main, err := sql.Open("sqlite", mainPath)
	if err != nil {
		return err
	}
	defer main.Close()
	if err := Apply(ctx, main, EngineSQLite); err != nil {
		return err
	}
	if err := Generate(ctx, main, EngineSQLite, opt); err != nil {
		return err
	}
	if billingPath == "" {
		return nil
	}
	bill, err := sql.Open("sqlite", billingPath)
	if err != nil {
		return err
	}
	defer bill.Close()
	if err := ApplyBilling(ctx, bill, EngineSQLite); err != nil {
		return err
	}
	return GenerateBilling(ctx, main, bill, EngineSQLite)
}
