package postgres

import (
	"context"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
)

// bucketIdle is how long a bucket left untouched is kept: a day, by which
// any bucket refilling its burst within a day is full again (fhirlink's
// limits are rates a second: the integrator's, and an export's one poll
// every few seconds).
const bucketIdle = 24 * time.Hour

// TakeRateTokens implements [quota.TokenStore]: the bucket's row is locked
// for the refill and the take, so nodes taking at once never take more
// than it holds.
//
// A new bucket (an export job's poll interval makes one per job) deletes
// the buckets left untouched for bucketIdle: any of them has refilled to
// full long since, which is what a missing bucket stands for.
func (s *Store) TakeRateTokens(ctx context.Context, key string, rate, burst float64, n int, at time.Time) (taken int, left float64, err error) {
	at = at.UTC()
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO rate_buckets (key, tokens, at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`, key, burst, at)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			if _, err := tx.Exec(ctx, `DELETE FROM rate_buckets WHERE at < $1`, at.Add(-bucketIdle)); err != nil {
				return err
			}
		}
		var tokens float64
		var last time.Time
		if err := tx.QueryRow(ctx, `SELECT tokens, at FROM rate_buckets WHERE key = $1 FOR UPDATE`, key).Scan(&tokens, &last); err != nil {
			return err
		}
		if el := at.Sub(last).Seconds(); el > 0 {
			tokens = min(burst, tokens+el*rate)
			last = at
		}
		taken = min(n, int(math.Floor(tokens)))
		left = tokens - float64(taken)
		_, err = tx.Exec(ctx, `UPDATE rate_buckets SET tokens = $2, at = $3 WHERE key = $1`, key, left, last)
		return err
	})
	return taken, left, err
}
