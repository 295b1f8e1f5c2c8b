package main

import (
	"flag"
	"os"

	"fhirlink/server/bulk"
	"fhirlink/server/cluster"
	"fhirlink/server/quota"
)

// clusterFlags defines the flags of a server node among several and returns
// the function applying them to a stack. With --nats it connects to NATS and
// puts a cluster router between the API and the hub, so this node answers
// for sites whose agents other nodes hold. Without it the node runs alone
// with no NATS at all: nobody to route to, so no broker, no port and no hop
// (zero set-up, as `fhirlink server` and `make demo` have always been). On
// PostgreSQL the nodes also share the rate limit's buckets; an access change
// made at one node (a pairing revoked) cancels the work in flight on every
// node at once. Its
// stop function stops routing; call it once the HTTP server has shut down.
func clusterFlags(fs *flag.FlagSet) func(st *stack) (stop func(), err error) {
	url := fs.String("nats", "", "NATS server URL(s), comma-separated, through which several server nodes sharing one PostgreSQL\n      route each query to the node holding the site's agent (default: none, this node runs alone)")
	nodeID := fs.String("node-id", "", "this node's name in logs and on NATS (default: the host name)")
	return func(st *stack) (func(), error) {
		if *url == "" {
			return func() {}, nil
		}
		id := *nodeID
		if id == "" {
			id, _ = os.Hostname()
		}
		nc, err := cluster.Connect(*url, id, st.log)
		if err != nil {
			return nil, err
		}
		r, err := cluster.New(st.hub, nc, cluster.Options{NodeID: id, Logger: st.log,
			OnAccess: func(integratorID, siteID string) { st.api.RecheckInFlight(integratorID, siteID) }})
		if err != nil {
			nc.Close()
			return nil, err
		}
		st.api.Hub = r
		st.api.Exports = &bulk.Manager{Node: id} // the holder named in export_jobs
		st.api.AccessChanged = r.AnnounceAccess
		if ts, ok := st.api.Store.(quota.TokenStore); ok { // PostgreSQL: the rate limit is the cluster's
			st.api.SharedRate = ts
		}
		st.log.Info("routing through NATS", "node", id, "nats", nc.ConnectedUrlRedacted())
		return func() {
			r.Close()
			nc.Close()
		}, nil
	}
}
