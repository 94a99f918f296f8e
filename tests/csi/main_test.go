// Package csi plays the Secrets Store CSI providers' side toward Vault
// (vault-csi-provider with github.com/hashicorp/vault/api, and, with
// -tags openbao, openbao-csi-provider with github.com/openbao/openbao/api/v2)
// against a real sealbox server over TLS. The providers' binaries are not
// served by the Go module proxy, so provider_test.go makes their calls with
// the client library they link, in their order (see docs/compatibility.md).
//
// tests/compat/test_csi.py configures the server (KV v2 on secret/, the
// database engine on db/ with a real PostgreSQL, Kubernetes auth on k8s/
// with the TokenReview stand-in) and runs this package with:
//
//	SEALBOX_ADDR, SEALBOX_CACERT  the server and the CA that signed it
//	SEALBOX_ROOT_TOKEN, SEALBOX_UNSEAL_KEY  to write secrets, seal and unseal
//	SEALBOX_JWT  the pod's service-account token for audience "vault"
//	SEALBOX_JWT_OWN_AUDIENCE  its token for audience "sealbox-csi" (role web-own-audience)
//	SEALBOX_JWT_WRONG_AUDIENCE, SEALBOX_JWT_OTHER_SA  tokens the role refuses
//	SEALBOX_PSQL, SEALBOX_PG_PORT  psql and PostgreSQL's port, to log in with credentials
package csi

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

var env = map[string]string{}

func TestMain(m *testing.M) {
	for _, k := range []string{"SEALBOX_ADDR", "SEALBOX_CACERT", "SEALBOX_ROOT_TOKEN", "SEALBOX_UNSEAL_KEY",
		"SEALBOX_JWT", "SEALBOX_JWT_OWN_AUDIENCE", "SEALBOX_JWT_WRONG_AUDIENCE", "SEALBOX_JWT_OTHER_SA", "SEALBOX_PSQL", "SEALBOX_PG_PORT"} {
		if env[k] = os.Getenv(k); env[k] == "" {
			fmt.Fprintf(os.Stderr, "%s is not set (tests/compat/test_csi.py runs this package)\n", k)
			os.Exit(2)
		}
	}
	os.Exit(m.Run())
}

// newClient is a client as the provider builds one: the library's defaults
// (retries included), the SecretProviderClass's vaultAddress and
// vaultCACertPath, and an optional round-tripper counting the requests.
func newClient(t testing.TB, count *int) *Client {
	t.Helper()
	cfg := DefaultConfig()
	if cfg.Error != nil {
		t.Fatal(cfg.Error)
	}
	if err := cfg.ConfigureTLS(&TLSConfig{CACert: env["SEALBOX_CACERT"]}); err != nil {
		t.Fatal(err)
	}
	cfg.Address = env["SEALBOX_ADDR"]
	if count != nil {
		cfg.HttpClient.Transport = countingTransport{cfg.HttpClient.Transport, count}
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatalf("new %s client: %v", clientName, err)
	}
	return c
}

func rootClient(t testing.TB) *Client {
	c := newClient(t, nil)
	c.SetToken(env["SEALBOX_ROOT_TOKEN"])
	return c
}

// ctx is a context bounded for one test step.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}
