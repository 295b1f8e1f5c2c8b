package bpsynth

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"time"
)

// Options control Generate. The zero value of every field but Patients has a default.
type Options struct {
	// Seed makes the output deterministic: the same Seed and Options give the same rows.
	Seed int64
	// Patients is the number of PATIENTS rows (at least 1).
	Patients int
	// Today is the reference date: appointments lie around it, ages and "recent" are measured
	// from it, and no created timestamp lies after it. Default 2026-06-15 (a Monday).
	Today time.Time
	// DaysBack and DaysAhead bound the appointment book around Today (defaults 120 and 42).
	DaysBack, DaysAhead int
	// State is the state or territory the practice is in (NSW, VIC, ... NT; default NSW):
	// its locations' suburbs and most of its patients are there, and its clock is
	// TimeZone's. Bp stores wall-clock times without a zone, so an agent serving the
	// practice must run in that zone (Options.TimeZone).
	State string
}

// DefaultState is the practice's state when Options.State is empty: NSW, whose zone
// (Australia/Sydney, with daylight saving) is also the agent's default.
const DefaultState = "NSW"

// stateZones are the IANA time zones of the states and territories (a practice's capital
// city's; Broken Hill NSW and a few border towns keep another, a detail a practice-wide
// zone cannot hold).
var stateZones = map[string]string{
	"NSW": "Australia/Sydney", "ACT": "Australia/Sydney", "VIC": "Australia/Melbourne",
	"QLD": "Australia/Brisbane", "SA": "Australia/Adelaide", "WA": "Australia/Perth",
	"TAS": "Australia/Hobart", "NT": "Australia/Darwin",
}

// TimeZone returns the IANA time zone of an Australian state or territory code, or ""
// for a code that is not one.
func TimeZone(state string) string { return stateZones[state] }

// TimeZone is the practice's time zone: the one an agent serving it must run in.
func (o Options) TimeZone() string { return TimeZone(o.withDefaults().State) }

// DefaultToday is the reference date used when Options.Today is zero.
var DefaultToday = time.Date(2026, time.June, 15, 0, 0, 0, 0, time.UTC)

// NowSeconds is the time of day on Today that the generator treats as "now" (11:00): today's
// earlier appointments are under way or done, later ones still booked.
const NowSeconds = 11 * 3600

// Small is a demo-sized practice (200 patients).
func Small() Options { return Options{Seed: 1, Patients: 200} }

// Benchmark is a large practice (50,000 patients) for load and paging tests.
func Benchmark() Options { return Options{Seed: 1, Patients: 50000} }

func (o Options) withDefaults() Options {
	if o.Today.IsZero() {
		o.Today = DefaultToday
	}
	o.Today = time.Date(o.Today.Year(), o.Today.Month(), o.Today.Day(), 0, 0, 0, 0, time.UTC)
	if o.DaysBack <= 0 {
		o.DaysBack = 120
	}
	if o.DaysAhead <= 0 {
		o.DaysAhead = 42
	}
	if o.State == "" {
		o.State = DefaultState
	}
	return o
}

// Generate fills a database created by Apply with a synthetic practice, in one transaction.
// engine is "postgres" or "sqlite". The database must not already hold patients.
func Generate(ctx context.Context, db *sql.DB, engine string, opt Options) error {
	if engine != EnginePostgres && engine != EngineSQLite {
		return fmt.Errorf("bpsynth: Generate supports %q and %q, not %q", EnginePostgres, EngineSQLite, engine)
	}
	if opt.Patients < 1 {
		return fmt.Errorf("bpsynth: Options.Patients must be at least 1, got %d", opt.Patients)
	}
	opt = opt.withDefaults()
	if TimeZone(opt.State) == "" {
		return fmt.Errorf("bpsynth: Options.State %q is not an Australian state or territory code (NSW, VIC, QLD, SA, WA, TAS, ACT, NT)", opt.State)
	}
	cat, err := loadCatalog(engine)
	if err != nil {
		return err
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM "PATIENTS"`).Scan(&n); err != nil {
		return fmt.Errorf("bpsynth: is the schema applied? %w", err)
	}
	if n > 0 {
		return fmt.Errorf("bpsynth: PATIENTS already has %d rows; Generate needs a freshly applied schema", n)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("bpsynth: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	// Millions of short-lived boxed values: a less eager collector halves the run time. The
	// setting is process-wide and restored on return.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	restore := func() {}
	if engine == EngineSQLite {
		// a larger page cache for the load keeps SQLite from spilling pages mid-transaction
		var pages int
		if err := tx.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&pages); err == nil {
			if _, err := tx.ExecContext(ctx, `PRAGMA cache_size = -131072`); err == nil {
				restore = func() { _, _ = tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = %d`, pages)) }
			}
		}
	}
	// Indexes are dropped for the load and built again at the end: building an index once is
	// cheaper than maintaining it through millions of inserts.
	indexes := indexStatements(engine)
	for _, ix := range indexes {
		if _, err := tx.ExecContext(ctx, `DROP INDEX IF EXISTS "`+ix.name+`"`); err != nil {
			return fmt.Errorf("bpsynth: drop index %s for the load: %w", ix.name, err)
		}
	}
	w := newWriter(ctx, tx, engine, cat)
	g := newGen(opt, w)
	func() {
		defer func() {
			if p := recover(); p != nil {
				w.close() //nolint:errcheck // the panic is the error
				panic(p)
			}
		}()
		g.run()
	}()
	if err := w.flushAll(); err != nil {
		return err
	}
	for _, ix := range indexes {
		if _, err := tx.ExecContext(ctx, ix.create); err != nil {
			return fmt.Errorf("bpsynth: rebuild index %s: %w", ix.name, err)
		}
	}
	if err := g.w.resetSequences(); err != nil {
		return err
	}
	restore()
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("bpsynth: commit: %w", err)
	}
	return nil
}

// gen holds the state of one generation run.
type gen struct {
	opt       Options
	w         *writer
	today     time.Time
	setupDate time.Time // when the practice started using Bp (earliest CREATED)

	practice  practiceInfo
	locations []locationInfo
	users     []*userInfo
	doctors   []*userInfo // active doctors, appointment book order
	nurses    []*userInfo
	clerks    []*userInfo // users who book appointments (reception)
	patients  []*patientInfo

	// encounters made by the appointment book (completed appointments), by patient index.
	bookEncounters map[int][]encounter

	nextVisitID int
	usedHI      idset
	usedMedi    idset
	usedStem    idset
}

func newGen(opt Options, w *writer) *gen {
	return &gen{
		opt:            opt,
		w:              w,
		today:          opt.Today,
		setupDate:      opt.Today.AddDate(-12, 0, 0),
		bookEncounters: map[int][]encounter{},
		nextVisitID:    1,
		usedHI:         idset{},
		usedMedi:       idset{},
		usedStem:       idset{},
	}
}

// Random streams: each phase draws from its own PCG stream, and every patient's clinical record
// from a stream of its own, so a change in one phase does not reshuffle the others.
const (
	streamPractice = 1 + iota
	streamPatients
	streamSchedule
	streamClinicalBase = 1 << 32
)

func (g *gen) rng(stream uint64) *rng {
	return &rng{rand.New(rand.NewPCG(uint64(g.opt.Seed), stream))}
}

func (g *gen) run() {
	g.writeLookups()
	g.writePractice(g.rng(streamPractice))
	g.writePatients(g.rng(streamPatients))
	g.writeSchedule(g.rng(streamSchedule))
	g.writeClinical()
	g.writeDeleted(g.rng(streamDeleted))
}

// rng wraps math/rand/v2 with the helpers the generator needs.
type rng struct{ *rand.Rand }

func (r *rng) chance(p float64) bool { return r.Float64() < p }

// between returns an int in [lo, hi].
func (r *rng) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.IntN(hi-lo+1)
}

func (r *rng) pick(list []string) string { return list[r.IntN(len(list))] }

func (r *rng) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

func (r *rng) letters(n int) string {
	const abc = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	b := make([]byte, n)
	for i := range b {
		b[i] = abc[r.IntN(len(abc))]
	}
	return string(b)
}

// normal returns a normally distributed value.
func (r *rng) normal(mean, sd float64) float64 { return mean + sd*r.NormFloat64() }

// weighted returns an index chosen with the given weights.
func (r *rng) weighted(weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := r.IntN(total)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// ---- small helpers shared by the table generators ----

func dateOnly(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// at returns day at the given seconds after midnight.
func at(day time.Time, secs int) time.Time {
	return dateOnly(day).Add(time.Duration(secs) * time.Second)
}

func daysBetween(a, b time.Time) int {
	return int(math.Round(dateOnly(b).Sub(dateOnly(a)).Hours() / 24))
}

func ageOn(dob, day time.Time) int {
	age := day.Year() - dob.Year()
	if day.Month() < dob.Month() || (day.Month() == dob.Month() && day.Day() < dob.Day()) {
		age--
	}
	return age
}

func fmtFloat(v float64, decimals int) string {
	return fmt.Sprintf("%.*f", decimals, v)
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// displayName is how Bp shows a user: "Dr Jane Citizen".
func displayName(title, first, last string) string {
	return strings.TrimSpace(strings.TrimSpace(title+" "+first) + " " + last)
}
