// Package goapi runs the real Go API clients (HashiCorp's vault/api, and
// OpenBao's api/v2 with -tags openbao) against a real sealbox server over
// TLS. tests/compat/test_go_api.py starts a fresh, uninitialised server (and
// PostgreSQL) and runs this package once per client with:
//
//	SEALBOX_ADDR    https://127.0.0.1:port of the server
//	SEALBOX_CACERT  the CA that signed its certificate
//	SEALBOX_PG_URL  a PostgreSQL connection_url template ({{username}}, {{password}})
//	SEALBOX_PG_USER, SEALBOX_PG_PASSWORD  its superuser login for the database engine
//
// TestMain initialises and unseals the server with the client's own Sys
// methods; the tests then share its root token.
package goapi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

var (
	serverAddr string
	caCert     string
	rootToken  string
	unsealKeys []string
)

func TestMain(m *testing.M) {
	serverAddr, caCert = os.Getenv("SEALBOX_ADDR"), os.Getenv("SEALBOX_CACERT")
	if serverAddr == "" || caCert == "" {
		fmt.Fprintln(os.Stderr, "SEALBOX_ADDR and SEALBOX_CACERT must name a fresh sealbox server "+
			"(tests/compat/test_go_api.py starts one)")
		os.Exit(2)
	}
	if err := initAndUnseal(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: init and unseal: %v\n", clientName, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// initAndUnseal checks InitStatus, Init, SealStatus and Unseal on the fresh
// server and keeps the root token and unseal keys.
func initAndUnseal() error {
	c, err := newClientErr("")
	if err != nil {
		return err
	}
	sys := c.Sys()
	if inited, err := sys.InitStatus(); err != nil || inited {
		return fmt.Errorf("InitStatus of a fresh server = %v, %v; want false", inited, err)
	}
	init, err := sys.Init(&InitRequest{SecretShares: 3, SecretThreshold: 2})
	if err != nil {
		return fmt.Errorf("Init: %w", err)
	}
	if len(init.Keys) != 3 || len(init.KeysB64) != 3 || !strings.HasPrefix(init.RootToken, "hvs.") {
		return fmt.Errorf("Init answered %d keys, %d base64 keys, root token %.4s...", len(init.Keys),
			len(init.KeysB64), init.RootToken)
	}
	rootToken, unsealKeys = init.RootToken, init.Keys
	if inited, err := sys.InitStatus(); err != nil || !inited {
		return fmt.Errorf("InitStatus after Init = %v, %v; want true", inited, err)
	}
	st, err := sys.SealStatus()
	if err != nil || !st.Sealed || !st.Initialized || st.T != 2 || st.N != 3 || st.Progress != 0 {
		return fmt.Errorf("SealStatus after Init = %+v, %v; want sealed 2 of 3, no progress", st, err)
	}
	return unseal(c)
}

// unseal gives the threshold's keys one at a time, checking the progress.
func unseal(c *Client) error {
	st, err := c.Sys().Unseal(unsealKeys[0])
	if err != nil || !st.Sealed || st.Progress != 1 {
		return fmt.Errorf("Unseal with the first key = %+v, %v; want sealed with progress 1", st, err)
	}
	st, err = c.Sys().Unseal(unsealKeys[2])
	if err != nil || st.Sealed || st.Progress != 0 {
		return fmt.Errorf("Unseal with the second key = %+v, %v; want unsealed", st, err)
	}
	return nil
}

func newClientErr(token string) (*Client, error) {
	cfg := DefaultConfig()
	if cfg.Error != nil {
		return nil, cfg.Error
	}
	cfg.Address = serverAddr
	cfg.MaxRetries = 0 // a 5xx is an answer to check here, not one to retry
	if err := cfg.ConfigureTLS(&TLSConfig{CACert: caCert}); err != nil {
		return nil, err
	}
	c, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	c.SetToken(token)
	return c, nil
}

// newClient is a client of the server holding token ("" for none).
func newClient(t testing.TB, token string) *Client {
	t.Helper()
	c, err := newClientErr(token)
	if err != nil {
		t.Fatalf("new %s client: %v", clientName, err)
	}
	return c
}

func rootClient(t testing.TB) *Client { return newClient(t, rootToken) }

// requireResponseError checks that err is the client's *ResponseError with
// the status and an error message containing want.
func requireResponseError(t testing.TB, err error, status int, want string) {
	t.Helper()
	var re *ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("want a *ResponseError %d %q, got %T: %v", status, want, err, err)
	}
	if re.StatusCode != status || !strings.Contains(strings.Join(re.Errors, "\n"), want) {
		t.Fatalf("want %d %q, got %d %q", status, want, re.StatusCode, re.Errors)
	}
}

func must(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// ctx is a context bounded for one test step.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}
