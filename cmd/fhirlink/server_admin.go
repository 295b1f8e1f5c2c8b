package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"fhirlink/server/admin"
)

// adminAPIFlags defines the flags of the admin API's listener and returns
// the function starting it for a stack (after clustering, so that pushed
// settings are routed to whichever node holds the agent). Off by default:
// the admin API listens only where --admin-addr says, with the operators
// of --admin-tokens. Its stop function shuts the listener down.
func adminAPIFlags(fs *flag.FlagSet) func(st *stack) (stop func(), err error) {
	addr := fs.String("admin-addr", "", "address of the admin API's own listener (e.g. 127.0.0.1:8081; default: no admin API);\n      keep it on loopback or a private network")
	tokens := fs.String("admin-tokens", "fhirlink-operators", "the operators file of the admin API (see 'fhirlink admin operator-token'), read on every call")
	return func(st *stack) (func(), error) {
		if *addr == "" {
			return func() {}, nil
		}
		if _, err := os.Stat(*tokens); err != nil {
			return nil, fmt.Errorf("--admin-addr needs an operators file: %w (create one with 'fhirlink admin operator-token --file %s')", err, *tokens)
		}
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			return nil, err
		}
		srv := &http.Server{Handler: st.api.AdminHandler(&admin.Operators{File: *tokens}), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				st.log.Error("admin API stopped", "err", err)
			}
		}()
		st.log.Info("fhirlink admin API listening", "addr", ln.Addr().String(), "operators", *tokens)
		return func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
		}, nil
	}
}
