package zedsynth

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"fhirlink/mappings/bppremier/bpsynth"
)

// Options control Generate. The zero value of every field but Patients has a default.
type Options struct {
	// Seed makes the output deterministic: the same Seed and Options give the same rows.
	Seed int64
	// Patients is the number of PATIENT rows (at least 1).
	Patients int
	// Today is the reference date (default bpsynth.DefaultToday, 2026-06-15, a Monday); "now"
	// is NowSeconds that day. Nothing depends on the wall clock.
	Today time.Time
	// DaysBack and DaysAhead bound the appointment book around Today (defaults 90 and 35).
	DaysBack, DaysAhead int
}

// State is the state the practice is in: its branches are in Parramatta and Castle Hill,
// NSW. Zedmed stores wall-clock times without a zone, so an agent serving the practice must
// run in its zone (TimeZone).
const State = "NSW"

// TimeZone is the practice's time zone, Australia/Sydney: the one an agent serving it must
// run in.
func (Options) TimeZone() string { return bpsynth.TimeZone(State) }

// NowSeconds is the time of day on Today that the generator treats as "now" (11:00).
const NowSeconds = 11 * 3600

// Small is a demo-sized practice (200 patients).
func Small() Options { return Options{Seed: 1, Patients: 200} }

// Benchmark is a large practice (50,000 patients).
func Benchmark() Options { return Options{Seed: 1, Patients: 50000} }

func (o Options) withDefaults() Options {
	if o.Today.IsZero() {
		o.Today = bpsynth.DefaultToday
	}
	o.Today = dateOnly(o.Today)
	if o.DaysBack <= 0 {
		o.DaysBack = 90
	}
	if o.DaysAhead <= 0 {
		o.DaysAhead = 35
	}
	return o
}

// Generate fills a main database created by Apply with a synthetic practice, in one
// transaction. engine is "firebird" or "sqlite". The database must not hold patients yet.
func Generate(ctx context.Context, db *sql.DB, engine string, opt Options) error {
	if err := checkEngine(engine); err != nil {
		return err
	}
	if opt.Patients < 1 {
		return fmt.Errorf("zedsynth: Options.Patients must be at least 1, got %d", opt.Patients)
	}
	opt = opt.withDefaults()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM PATIENT`).Scan(&n); err != nil {
		return fmt.Errorf("zedsynth: is the schema applied? %w", err)
	}
	if n > 0 {
		return fmt.Errorf("zedsynth: PATIENT already has %d rows; Generate needs a freshly applied schema", n)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("zedsynth: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	g := &gen{opt: opt, w: &writer{ctx: ctx, tx: tx, engine: engine, stmts: map[string]*sql.Stmt{}},
		usedHI: idset{}, usedMedicare: idset{}, ids: map[string]int{}, consultOn: map[consultKey]consultRef{}}
	g.run()
	if g.w.err != nil {
		return g.w.err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("zedsynth: commit: %w", err)
	}
	return nil
}

// ---- writer ----

// sqliteTime is how TIMESTAMP values are stored on SQLite (text that sorts chronologically);
// Firebird gets time.Time values, whose wall clock it stores.
const sqliteTime = "2006-01-02 15:04:05"

type writer struct {
	ctx    context.Context
	tx     *sql.Tx
	engine string
	stmts  map[string]*sql.Stmt
	err    error
}

// rec is one row: column name to value (nil is NULL). Columns left out are NULL, or 0 for
// DELETED and the NOT NULL integers.
type rec map[string]any

// deletedEvery makes deleted rows in the big tables: of the rows written live, every n-th by
// key is written deleted instead, as if removed in Zedmed afterwards. It draws no random
// numbers, so every other value stays as generated; the small tables get deleted rows of
// their own (gen.deleted).
var deletedEvery = map[string]int{
	"APPOINTMENT":  89,
	"ALLERGY":      7,
	"MEDICATION":   13,
	"IMMUNISATION": 11,
	"MEASUREMENT":  37,
}

func (w *writer) insert(name string, r rec) {
	if w.err != nil {
		return
	}
	t := findTable(name)
	if t == nil {
		w.err = fmt.Errorf("zedsynth: no table %s", name)
		return
	}
	for k := range r {
		if !t.has(k) {
			w.err = fmt.Errorf("zedsynth: table %s has no column %s", name, k)
			return
		}
	}
	st, ok := w.stmts[name]
	if !ok {
		cols := make([]string, len(t.cols))
		marks := make([]string, len(t.cols))
		for i, c := range t.cols {
			cols[i], marks[i] = c.name, "?"
		}
		st, w.err = w.tx.PrepareContext(w.ctx, "INSERT INTO "+name+" ("+strings.Join(cols, ", ")+") VALUES ("+strings.Join(marks, ", ")+")")
		if w.err != nil {
			return
		}
		w.stmts[name] = st
	}
	if d, ok := deletedEvery[name]; ok {
		if k, ok := r[t.key].(int); ok && k%d == 0 && r["DELETED"] == nil {
			r["DELETED"] = 1
		}
	}
	args := make([]any, len(t.cols))
	for i, c := range t.cols {
		v, ok := r[c.name]
		if !ok && (c.notNull || c.name == "DELETED") {
			v = 0
		}
		switch x := v.(type) {
		case time.Time:
			if x.IsZero() {
				v = nil
			} else if w.engine == EngineSQLite {
				v = x.Format(sqliteTime)
			}
		case string:
			if c.kind == kText && len(x) > c.size {
				w.err = fmt.Errorf("zedsynth: %s.%s: %q is longer than %d", name, c.name, x, c.size)
				return
			}
		}
		args[i] = v
	}
	if _, err := st.ExecContext(w.ctx, args...); err != nil {
		w.err = fmt.Errorf("zedsynth: insert into %s: %w", name, err)
	}
}

func (t *table) has(col string) bool {
	for _, c := range t.cols {
		if c.name == col {
			return true
		}
	}
	return false
}

// ---- random helpers ----

type rng struct{ *rand.Rand }

func (g *gen) rng(stream uint64) *rng {
	return &rng{rand.New(rand.NewPCG(uint64(g.opt.Seed), stream))}
}

func (r *rng) chance(p float64) bool           { return r.Float64() < p }
func (r *rng) pick(list []string) string       { return list[r.IntN(len(list))] }
func (r *rng) between(lo, hi int) int          { return lo + r.IntN(hi-lo+1) }
func (r *rng) normal(mean, sd float64) float64 { return mean + sd*r.NormFloat64() }

func (r *rng) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

func dateOnly(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func at(day time.Time, secs int) time.Time {
	return dateOnly(day).Add(time.Duration(secs) * time.Second)
}

func ageOn(dob, day time.Time) int {
	age := day.Year() - dob.Year()
	if day.Month() < dob.Month() || (day.Month() == dob.Month() && day.Day() < dob.Day()) {
		age--
	}
	return age
}

// isoWeekday is 1 for Monday .. 7 for Sunday.
func isoWeekday(d time.Time) int {
	if d.Weekday() == time.Sunday {
		return 7
	}
	return int(d.Weekday())
}

func round1(v float64) float64 { return float64(int(v*10+0.5)) / 10 }
