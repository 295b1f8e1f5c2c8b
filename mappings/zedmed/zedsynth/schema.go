package zedsynth

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// Engine names accepted by Schema, Apply and Generate.
const (
	EngineFirebird = "firebird"
	EngineSQLite   = "sqlite"
)

// Catalogue names of the pair of databases (see the package documentation).
const (
	CatalogueMain    = "ZEDMED"
	CatalogueBilling = "ZEDBILL"
)

type kind int

const (
	kInt   kind = iota // INTEGER
	kSmall             // SMALLINT
	kText              // VARCHAR(n)
	kTS                // TIMESTAMP (wall clock, practice time)
	kReal              // DOUBLE PRECISION
	kMemo              // BLOB SUB_TYPE TEXT on Firebird
)

type column struct {
	name    string
	kind    kind
	size    int
	notNull bool
}

type table struct {
	name    string
	key     string // the integer primary key column
	cols    []column
	indexes [][]string
}

func ic(name string) column        { return column{name: name, kind: kInt} }
func icNN(name string) column      { return column{name: name, kind: kInt, notNull: true} }
func sc(name string) column        { return column{name: name, kind: kSmall, notNull: true} }
func tc(name string, n int) column { return column{name: name, kind: kText, size: n} }
func ts(name string) column        { return column{name: name, kind: kTS} }
func rc(name string) column        { return column{name: name, kind: kReal} }

// audit are the columns every record table ends with.
func audit() []column {
	return []column{ts("CREATED_AT"), ts("UPDATED_AT"), sc("DELETED")}
}

func tbl(name, key string, cols []column, indexes ...[]string) *table {
	all := append([]column{icNN(key)}, cols...)
	return &table{name: name, key: key, cols: all, indexes: indexes}
}

func with(cols []column, more ...[]column) []column {
	for _, m := range more {
		cols = append(cols, m...)
	}
	return cols
}

// mainTables are the tables of the main database (catalogue ZEDMED), in creation order.
var mainTables = []*table{
	tbl("PRACTICE", "PRACTICE_ID", with([]column{
		tc("PRACTICE_NAME", 100), tc("ABN", 14), tc("HPIO", 16)}, audit())),
	tbl("BRANCH", "BRANCH_ID", with([]column{
		icNN("PRACTICE_ID"), tc("BRANCH_NAME", 100), tc("ADDRESS_1", 80), tc("ADDRESS_2", 80), tc("SUBURB", 60),
		tc("STATE", 3), tc("POSTCODE", 4), tc("PHONE", 20), tc("FAX", 20), tc("EMAIL", 100), tc("HPIO", 16)}, audit())),
	tbl("DOCTOR", "DOCTOR_ID", with([]column{
		tc("TITLE", 10), tc("FIRST_NAME", 40), tc("SURNAME", 40), sc("DOCTOR_TYPE"), tc("HPII", 16), tc("AHPRA_NO", 13),
		tc("PRESCRIBER_NO", 7), tc("PHONE", 20), tc("MOBILE", 20), tc("EMAIL", 100), sc("IS_ACTIVE")}, audit()),
		[]string{"SURNAME"}),
	tbl("DOCTOR_BRANCH", "DOCTOR_BRANCH_ID", with([]column{
		icNN("DOCTOR_ID"), icNN("BRANCH_ID"), tc("PROVIDER_NO", 8)}, audit()),
		[]string{"DOCTOR_ID"}),
	tbl("PATIENT", "PATIENT_ID", with([]column{
		tc("CHART_NO", 12), tc("TITLE", 10), tc("FIRST_NAME", 40), tc("MIDDLE_NAME", 40), tc("SURNAME", 40),
		tc("PREFERRED_NAME", 40), tc("SEX", 1), ts("DOB"), ts("DOD"),
		tc("ADDRESS_1", 80), tc("ADDRESS_2", 80), tc("SUBURB", 60), tc("STATE", 3), tc("POSTCODE", 4),
		tc("POSTAL_ADDRESS", 80), tc("POSTAL_SUBURB", 60), tc("POSTAL_STATE", 3), tc("POSTAL_POSTCODE", 4),
		tc("HOME_PHONE", 20), tc("WORK_PHONE", 20), tc("MOBILE_PHONE", 20), tc("EMAIL", 100),
		tc("MEDICARE_NO", 10), tc("MEDICARE_IRN", 1), tc("MEDICARE_EXPIRY", 7), tc("DVA_NO", 9), tc("DVA_CARD", 1),
		tc("IHI", 16), sc("ATSI"), ic("USUAL_DOCTOR_ID"), ic("FAMILY_ID"), sc("STATUS")}, audit()),
		[]string{"SURNAME"}, []string{"DOB"}, []string{"MEDICARE_NO"}, []string{"IHI"}),
	tbl("APPT_TYPE", "APPT_TYPE_ID", with([]column{
		tc("DESCRIPTION", 60), icNN("DURATION_SECS")}, audit())),
	tbl("SESSION_TEMPLATE", "TEMPLATE_ID", with([]column{
		icNN("DOCTOR_ID"), icNN("BRANCH_ID"), sc("DAY_OF_WEEK"), icNN("START_SECS"), icNN("END_SECS"), icNN("SLOT_SECS"),
		ts("VALID_FROM"), ts("VALID_TO")}, audit()),
		[]string{"DOCTOR_ID"}),
	tbl("DOCTOR_LEAVE", "LEAVE_ID", with([]column{
		icNN("DOCTOR_ID"), ts("START_DATE"), ts("END_DATE"), tc("REASON", 60)}, audit()),
		[]string{"DOCTOR_ID"}),
	tbl("APPOINTMENT", "APPT_ID", with([]column{
		ic("PATIENT_ID"), icNN("DOCTOR_ID"), icNN("BRANCH_ID"), ts("APPT_DATE"), icNN("START_SECS"), icNN("DURATION_SECS"),
		ic("APPT_TYPE_ID"), sc("STATUS"), tc("REASON", 100), tc("NOTES", 200), tc("CANCEL_REASON", 100), sc("URGENT")}, audit()),
		[]string{"DOCTOR_ID", "APPT_DATE"}, []string{"PATIENT_ID"}, []string{"APPT_DATE"}),
	tbl("ALLERGY", "ALLERGY_ID", with([]column{
		icNN("PATIENT_ID"), ic("DOCTOR_ID"), tc("SUBSTANCE", 100), tc("SNOMED_CODE", 18), tc("REACTION", 100),
		sc("SEVERITY"), sc("CATEGORY"), ts("ONSET_DATE"), ts("RECORDED_AT")}, audit()),
		[]string{"PATIENT_ID"}),
	tbl("PROBLEM", "PROBLEM_ID", with([]column{
		icNN("PATIENT_ID"), ic("DOCTOR_ID"), tc("DESCRIPTION", 120), tc("SNOMED_CODE", 18), ts("ONSET_DATE"),
		ts("RESOLVED_DATE"), sc("IS_ACTIVE"), ts("RECORDED_AT")}, audit()),
		[]string{"PATIENT_ID"}),
	tbl("MEDICATION", "MEDICATION_ID", with([]column{
		icNN("PATIENT_ID"), ic("DOCTOR_ID"), tc("DRUG_NAME", 100), tc("STRENGTH", 40), tc("AMT_CODE", 18), tc("DOSE_TEXT", 100),
		ts("START_DATE"), ts("STOP_DATE"), sc("IS_CURRENT"), ts("RECORDED_AT")}, audit()),
		[]string{"PATIENT_ID"}),
	tbl("IMMUNISATION", "IMMUNISATION_ID", with([]column{
		icNN("PATIENT_ID"), ic("DOCTOR_ID"), tc("VACCINE_NAME", 100), tc("AMT_CODE", 18), tc("BATCH_NO", 20), sc("DOSE_NO"),
		tc("SITE", 20), ts("GIVEN_DATE")}, audit()),
		[]string{"PATIENT_ID"}),
	tbl("MEASUREMENT", "MEASUREMENT_ID", with([]column{
		icNN("PATIENT_ID"), ic("DOCTOR_ID"), ts("MEASURED_AT"), tc("MEAS_TYPE", 10), rc("VALUE_1"), rc("VALUE_2"), tc("UNIT", 20)}, audit()),
		[]string{"PATIENT_ID"}),
	tbl("CONSULT", "CONSULT_ID", with([]column{
		icNN("PATIENT_ID"), icNN("DOCTOR_ID"), ic("BRANCH_ID"), ic("APPT_ID"), sc("CONSULT_TYPE"), ts("START_AT"), ts("END_AT"),
		tc("REASON", 100)}, audit()),
		[]string{"PATIENT_ID"}, []string{"START_AT"}),
	tbl("SCRIPT", "SCRIPT_ID", with([]column{
		icNN("PATIENT_ID"), icNN("DOCTOR_ID"), ic("CONSULT_ID"), ic("MEDICATION_ID"), tc("DRUG_NAME", 100), tc("STRENGTH", 40),
		tc("AMT_CODE", 18), tc("DOSE_TEXT", 100), sc("PRN"), ic("QUANTITY"), sc("REPEATS"), ts("SCRIPT_DATE"), sc("STATUS"),
		tc("CANCEL_REASON", 100)}, audit()),
		[]string{"PATIENT_ID"}),
}

// billingTables are the tables of the billing database (catalogue ZEDBILL). FHIR reads none of
// them; they are there so that a site has the pair of databases Zedmed has.
var billingTables = []*table{
	tbl("INVOICE", "INVOICE_ID", with([]column{
		icNN("PATIENT_ID"), icNN("DOCTOR_ID"), ic("APPT_ID"), ts("INVOICE_DATE"), sc("PAYER"), rc("TOTAL"), rc("PAID")}, audit()),
		[]string{"PATIENT_ID"}),
	tbl("INVOICE_ITEM", "ITEM_ID", with([]column{
		icNN("INVOICE_ID"), tc("MBS_ITEM", 6), tc("DESCRIPTION", 100), rc("FEE")}, audit()),
		[]string{"INVOICE_ID"}),
}

func checkEngine(engine string) error {
	if engine != EngineFirebird && engine != EngineSQLite {
		return fmt.Errorf("zedsynth: engine %q is not %q or %q", engine, EngineFirebird, EngineSQLite)
	}
	return nil
}

func colType(engine string, c column) string {
	switch c.kind {
	case kInt:
		return "INTEGER"
	case kSmall:
		return "SMALLINT"
	case kText:
		return "VARCHAR(" + strconv.Itoa(c.size) + ")"
	case kTS:
		if engine == EngineSQLite {
			return "DATETIME"
		}
		return "TIMESTAMP"
	case kReal:
		if engine == EngineSQLite {
			return "REAL"
		}
		return "DOUBLE PRECISION"
	}
	if engine == EngineSQLite {
		return "TEXT"
	}
	return "BLOB SUB_TYPE TEXT"
}

func script(engine string, tables []*table) []string {
	var out []string
	for _, t := range tables {
		var b strings.Builder
		b.WriteString("CREATE TABLE " + t.name + " (\n")
		for _, c := range t.cols {
			b.WriteString("    " + c.name + " " + colType(engine, c))
			switch {
			case c.name == "DELETED":
				b.WriteString(" DEFAULT 0 NOT NULL")
			case c.notNull:
				b.WriteString(" NOT NULL")
			}
			b.WriteString(",\n")
		}
		b.WriteString("    CONSTRAINT PK_" + t.name + " PRIMARY KEY (" + t.key + ")\n)")
		out = append(out, b.String())
		for i, ix := range t.indexes {
			// Firebird 3 names are at most 31 characters
			out = append(out, "CREATE INDEX IX_"+t.name+"_"+strconv.Itoa(i+1)+" ON "+t.name+" ("+strings.Join(ix, ", ")+")")
		}
	}
	return out
}

// Schema returns the DDL statements of the main database (catalogue ZEDMED) for engine
// ("firebird" or "sqlite"). Identifiers are upper case and unquoted, as Firebird keeps them.
func Schema(engine string) ([]string, error) {
	if err := checkEngine(engine); err != nil {
		return nil, err
	}
	return script(engine, mainTables), nil
}

// BillingSchema returns the DDL statements of the billing database (catalogue ZEDBILL).
func BillingSchema(engine string) ([]string, error) {
	if err := checkEngine(engine); err != nil {
		return nil, err
	}
	return script(engine, billingTables), nil
}

// Apply creates the main database's tables and indexes on db (an empty database), and on
// Firebird the booking procedures (see booking.go), once the tables they use are committed.
func Apply(ctx context.Context, db *sql.DB, engine string) error {
	stmts, err := Schema(engine)
	if err != nil {
		return err
	}
	if err := apply(ctx, db, engine, stmts); err != nil || engine != EngineFirebird {
		return err
	}
	return apply(ctx, db, engine, bookingDDL)
}

// ApplyBilling creates the billing database's tables on db (another empty database).
func ApplyBilling(ctx context.Context, db *sql.DB, engine string) error {
	stmts, err := BillingSchema(engine)
	if err != nil {
		return err
	}
	return apply(ctx, db, engine, stmts)
}

func apply(ctx context.Context, db *sql.DB, engine string, stmts []string) error {
	// Firebird cannot use a table in the transaction that creates it, so DDL is committed
	// before any data arrives; one transaction for the whole script is fine on both engines.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("zedsynth: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("zedsynth: schema on %s: %w\n%s", engine, err, s)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("zedsynth: commit schema: %w", err)
	}
	return nil
}

// Tables lists the main database's tables and their columns, in declaration order.
func Tables() map[string][]string {
	out := map[string][]string{}
	for _, t := range mainTables {
		for _, c := range t.cols {
			out[t.name] = append(out[t.name], c.name)
		}
	}
	return out
}

func findTable(name string) *table {
	for _, t := range append(append([]*table{}, mainTables...), billingTables...) {
		if t.name == name {
			return t
		}
	}
	return nil
}
