package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"fhirlink/server/async"
	"fhirlink/server/results"
)

// asyncFlags defines the server's flags for async and registered queries
// and webhooks, and returns the function applying them to a stack: it sets
// the result store and limits and starts the workers. Its stop function
// stops the workers (queries running on this node are queued again); call
// it before closing the store.
func asyncFlags(fs *flag.FlagSet) func(st *stack) (stop func(), err error) {
	dir := fs.String("results-dir", "fhirlink-results", "directory keeping async query results and export files (several server nodes need one they all share)")
	retention := fs.Duration("async-retention", async.DefaultRetention, "how long async query results are kept once the query ends; then they answer 410")
	timeout := fs.Duration("async-timeout", async.DefaultTimeout, "execution limit of an async query (queueing and upload not counted)")
	perSite := fs.Int("async-per-site", async.DefaultPerSite, "async queries this node runs at once for one site (the agent runs them below its interactive work)")
	s3Endpoint := fs.String("results-s3-endpoint", "", "host[:port] of an S3-compatible object store keeping async results and export files instead of --results-dir\n      (several server nodes); credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the instance role")
	s3Bucket := fs.String("results-s3-bucket", "", "the bucket (it must exist)")
	s3Prefix := fs.String("results-s3-prefix", "fhirlink", "prefix of every object name in the bucket")
	s3Region := fs.String("results-s3-region", "", "the bucket's region (default: asked of the service)")
	s3Insecure := fs.Bool("results-s3-insecure", false, "plain HTTP to the object store (a local test service only)")
	minFreq := fs.Duration("registered-min-frequency", async.DefaultRegisteredMinFrequency, "the shortest frequency a registered query may have (tests lower it)")
	return func(st *stack) (func(), error) {
		if *retention <= 0 || *timeout <= 0 || *perSite < 1 || *minFreq < time.Second {
			return nil, fmt.Errorf("--async-retention and --async-timeout must be positive, --async-per-site at least 1, --registered-min-frequency at least 1s")
		}
		var rs results.Store
		if *s3Endpoint != "" {
			s3, err := results.NewS3(context.Background(), results.S3Config{Endpoint: *s3Endpoint, Bucket: *s3Bucket,
				Prefix: *s3Prefix, Region: *s3Region, Insecure: *s3Insecure})
			if err != nil {
				return nil, err
			}
			rs = s3
		} else {
			d, err := results.NewDir(*dir)
			if err != nil {
				return nil, err
			}
			rs = d
		}
		o := &st.api.Async
		o.Results, o.Retention, o.Timeout, o.PerSite = rs, *retention, *timeout, *perSite
		o.RegisteredMinFrequency = *minFreq
		return st.api.StartWorkers(), nil
	}
}
