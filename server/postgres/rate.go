package postgres

import (
	"context"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
)

// TakeRateTokens implements [quota.TokenStore]: the bucket's row is locked
// for the refill and the take, so nodes taking at once never take more
// than it holds.
func (s *Store) TakeRateTokens(ctx context.Context, key string, rate, burst float64, n int, at time.Time) (taken int, left float64, err error) {
	at = at.UTC()
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO rate_buckets (key, tokens, at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`, key, burst, at); err != nil {
			return err
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
		_, err := tx.Exec(ctx, `UPDATE rate_buckets SET tokens = $2, at = $3 WHERE key = $1`, key, left, last)
		return err
	})
	return taken, left, err
}
